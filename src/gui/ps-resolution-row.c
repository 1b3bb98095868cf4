/* ps-resolution-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-resolution-row"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-resolution-row.h"

struct _PsResolutionRow
{
  GtkListBoxRow  parent_instance;

  PsResolution  *resolution;
  char          *server_description;

  /* Template widgets */
  GtkLabel      *display_id_label;
  GtkLabel      *name_label;
  GtkLabel      *type_label;
  GtkLabel      *source_label;
  GtkLabel      *fields_label;
};

G_DEFINE_FINAL_TYPE (PsResolutionRow, ps_resolution_row, GTK_TYPE_LIST_BOX_ROW)

enum {
  PROP_0,
  PROP_RESOLUTION,
  PROP_SERVER_DESCRIPTION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];


/*
 * GObject overrides
 */

static void
ps_resolution_row_constructed (GObject *object)
{
  PsResolutionRow *self = (PsResolutionRow *)object;
  g_autofree char *type = NULL;
  g_autofree char *time = NULL;
  g_autofree char *source = NULL;
  g_autofree char *fields = NULL;
  const char *name;
  guint n_fields;

  G_OBJECT_CLASS (ps_resolution_row_parent_class)->constructed (object);

  g_assert (PS_IS_RESOLUTION (self->resolution));

  type = ps_resolution_dup_type_label (ps_resolution_get_record_type (self->resolution));
  time = ps_resolution_format_time (ps_resolution_get_time (self->resolution));
  n_fields = ps_resolution_get_n_decisions (self->resolution);

  /* Translators: the first %s is the description of a server, the second a date and time */
  source = g_strdup_printf (_("With %s, %s"),
                            self->server_description != NULL ? self->server_description
                                                             : _("an unknown server"),
                            time);
  if (n_fields == 0)
    fields = g_strdup (_("Merged without contested fields"));
  else
    fields = g_strdup_printf (ngettext ("%u contested field",
                                      "%u contested fields", n_fields),
                              n_fields);

  gtk_label_set_text (self->display_id_label, ps_resolution_get_display_id (self->resolution));
  /* Older journal entries have no name. */
  name = ps_resolution_get_name (self->resolution);
  gtk_label_set_text (self->name_label, name != NULL ? name : "");
  gtk_widget_set_visible (GTK_WIDGET (self->name_label), name != NULL);
  gtk_label_set_text (self->type_label, type);
  gtk_label_set_text (self->source_label, source);
  gtk_label_set_text (self->fields_label, fields);
}

static void
ps_resolution_row_finalize (GObject *object)
{
  PsResolutionRow *self = (PsResolutionRow *)object;

  g_clear_object (&self->resolution);
  g_clear_pointer (&self->server_description, g_free);

  G_OBJECT_CLASS (ps_resolution_row_parent_class)->finalize (object);
}

static void
ps_resolution_row_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  PsResolutionRow *self = PS_RESOLUTION_ROW (object);

  switch (prop_id)
    {
    case PROP_RESOLUTION:
      g_value_set_object (value, self->resolution);
      break;

    case PROP_SERVER_DESCRIPTION:
      g_value_set_string (value, self->server_description);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_resolution_row_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  PsResolutionRow *self = PS_RESOLUTION_ROW (object);

  switch (prop_id)
    {
    case PROP_RESOLUTION:
      self->resolution = g_value_dup_object (value);
      break;

    case PROP_SERVER_DESCRIPTION:
      self->server_description = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_resolution_row_class_init (PsResolutionRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = ps_resolution_row_constructed;
  object_class->finalize = ps_resolution_row_finalize;
  object_class->get_property = ps_resolution_row_get_property;
  object_class->set_property = ps_resolution_row_set_property;

  properties[PROP_RESOLUTION] =
    g_param_spec_object ("resolution", NULL, NULL,
                         PS_TYPE_RESOLUTION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  properties[PROP_SERVER_DESCRIPTION] =
    g_param_spec_string ("server-description", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-resolution-row.ui");

  gtk_widget_class_bind_template_child (widget_class, PsResolutionRow, display_id_label);
  gtk_widget_class_bind_template_child (widget_class, PsResolutionRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, PsResolutionRow, type_label);
  gtk_widget_class_bind_template_child (widget_class, PsResolutionRow, source_label);
  gtk_widget_class_bind_template_child (widget_class, PsResolutionRow, fields_label);
}

static void
ps_resolution_row_init (PsResolutionRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}


/*
 * Public API
 */

PsResolutionRow *
ps_resolution_row_new (PsResolution *resolution,
                       const char   *server_description)
{
  g_return_val_if_fail (PS_IS_RESOLUTION (resolution), NULL);

  return g_object_new (PS_TYPE_RESOLUTION_ROW,
                       "resolution", resolution,
                       "server-description", server_description,
                       NULL);
}

PsResolution *
ps_resolution_row_get_resolution (PsResolutionRow *self)
{
  g_return_val_if_fail (PS_IS_RESOLUTION_ROW (self), NULL);

  return self->resolution;
}

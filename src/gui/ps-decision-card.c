/* ps-decision-card.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One contested field of a resolution on the conflicts page: its path, why
 * the merge decided as it did, the value kept and the values discarded.
 */

#define G_LOG_DOMAIN "ps-decision-card"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-decision-card.h"
#include "ps-decision-value.h"
#include "ps-json.h"

struct _PsDecisionCard
{
  GtkFrame  parent_instance;

  /* Template widgets */
  GtkBox   *values_box;
  GtkLabel *path_label;
  GtkLabel *kind_label;
};

G_DEFINE_FINAL_TYPE (PsDecisionCard, ps_decision_card, GTK_TYPE_FRAME)


/*
 * Auxiliary methods
 */

static const char *
describe_kind (const char *kind)
{
  if (g_strcmp0 (kind, "restored-after-clear") == 0)
    return _("One side cleared this field; the value was kept.");
  if (g_strcmp0 (kind, "row-kept-against-removal") == 0)
    return _("One side removed this row while the other edited it; the row was kept.");
  if (g_strcmp0 (kind, "newer-document") == 0)
    return _("No history explains the difference; the more recently saved record won.");

  return _("Changed on both sides; the most recent change won.");
}

/* Attachments are files, not fields: they cannot be set back. */
static GVariant *
new_use_target (PsResolution *resolution,
                const char   *path,
                JsonObject   *source)
{
  JsonNode *value = json_object_get_member (source, "value");
  g_autoptr(GString) value_json = g_string_new (NULL);

  if (path == NULL || g_str_has_prefix (path, "_"))
    return NULL;

  /* The value as journaled: json-glib alone would round a big integer. */
  if (value != NULL)
    ps_json_write_edited (value_json, value, ps_resolution_get_texts (resolution));
  else
    g_string_append (value_json, "null");
  return g_variant_ref_sink (g_variant_new ("(sssss)",
                                            ps_resolution_get_server_id (resolution) != NULL
                                              ? ps_resolution_get_server_id (resolution) : "",
                                            ps_resolution_get_database (resolution) != NULL
                                              ? ps_resolution_get_database (resolution) : "",
                                            ps_resolution_get_record_id (resolution),
                                            path, value_json->str));
}


/*
 * GObject overrides
 */

static void
ps_decision_card_class_init (PsDecisionCardClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-decision-card.ui");
  gtk_widget_class_bind_template_child (widget_class, PsDecisionCard, values_box);
  gtk_widget_class_bind_template_child (widget_class, PsDecisionCard, path_label);
  gtk_widget_class_bind_template_child (widget_class, PsDecisionCard, kind_label);
}

static void
ps_decision_card_init (PsDecisionCard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}


/*
 * Public API
 */

/**
 * ps_decision_card_new:
 * @resolution: the resolution the decision belongs to
 * @decision: one decision of its report
 *
 * Returns: (transfer floating): a new #PsDecisionCard
 */
GtkWidget *
ps_decision_card_new (PsResolution *resolution,
                      JsonObject   *decision)
{
  PsDecisionCard *self = g_object_new (PS_TYPE_DECISION_CARD, NULL);
  const char *path = ps_json_get_string (decision, "path");
  JsonObject *kept = ps_json_get_object (decision, "kept");
  JsonArray *discarded = ps_json_get_array (decision, "discarded");

  gtk_label_set_text (self->path_label, path != NULL ? path : "");
  gtk_label_set_text (self->kind_label, describe_kind (ps_json_get_string (decision, "kind")));

  if (kept != NULL)
    gtk_container_add (GTK_CONTAINER (self->values_box),
                       ps_decision_value_new (_("Kept"), kept,
                                              ps_resolution_get_texts (resolution), NULL));

  for (guint i = 0; discarded != NULL && i < json_array_get_length (discarded); i++)
    {
      JsonObject *source = ps_json_get_object_element (discarded, i);
      g_autoptr(GVariant) target = NULL;

      if (source == NULL)
        continue;

      target = new_use_target (resolution, path, source);
      gtk_container_add (GTK_CONTAINER (self->values_box),
                         ps_decision_value_new (_("Discarded"), source,
                                                ps_resolution_get_texts (resolution), target));
    }

  return GTK_WIDGET (self);
}

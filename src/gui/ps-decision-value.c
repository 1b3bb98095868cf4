/* ps-decision-value.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One value of a contested field on the conflicts page: what it was, who
 * set it and when, and for a discarded value a button that puts it back.
 */

#define G_LOG_DOMAIN "ps-decision-value"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-decision-value.h"
#include "ps-json.h"
#include "ps-resolution.h"

struct _PsDecisionValue
{
  GtkBox     parent_instance;

  /* Template widgets */
  GtkLabel  *value_label;
  GtkLabel  *origin_label;
  GtkButton *use_button;
};

G_DEFINE_FINAL_TYPE (PsDecisionValue, ps_decision_value, GTK_TYPE_BOX)


/*
 * Auxiliary methods
 */

static char *
format_value (JsonNode    *value,
              PsJsonTexts *texts)
{
  if (value == NULL || JSON_NODE_HOLDS_NULL (value))
    return g_strdup (_("(empty)"));

  if (JSON_NODE_HOLDS_VALUE (value))
    {
      GType type = json_node_get_value_type (value);

      if (type == G_TYPE_STRING)
        {
          const char *text = json_node_get_string (value);

          return g_strdup (*text != '\0' ? text : _("(empty)"));
        }
      if (type == G_TYPE_BOOLEAN)
        return g_strdup (json_node_get_boolean (value) ? _("Yes") : _("No"));
      {
        g_autoptr(GString) number = g_string_new (NULL);

        /* As the record has it: json-glib alone rounds a big integer. */
        ps_json_write (number, value, texts);
        return g_string_free (g_steal_pointer (&number), FALSE);
      }
    }

  if (JSON_NODE_HOLDS_ARRAY (value))
    {
      JsonArray *array = json_node_get_array (value);
      g_autoptr(GString) text = g_string_new (NULL);
      gboolean plain = TRUE;

      /* Multi-select values read best as a list. */
      for (guint i = 0; i < json_array_get_length (array) && plain; i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (json_node_get_value_type (element) != G_TYPE_STRING)
            plain = FALSE;
          else
            {
              if (i > 0)
                g_string_append (text, _(", "));
              g_string_append (text, json_node_get_string (element));
            }
        }
      if (plain)
        return json_array_get_length (array) > 0 ? g_string_free (g_steal_pointer (&text), FALSE)
                                                 : g_strdup (_("(empty)"));
    }

  {
    g_autoptr(GString) text = g_string_new (NULL);

    ps_json_write_pretty (text, value, texts);
    return g_string_free (g_steal_pointer (&text), FALSE);
  }
}

static char *
format_source (JsonObject *source)
{
  const char *user = ps_json_get_string (source, "user");
  const char *organisation = ps_json_get_string (source, "organisation");
  g_autofree char *time = NULL;

  time = ps_resolution_format_time (ps_json_get_string (source, "time"));
  if (user == NULL)
    user = _("an unknown user");

  if (organisation != NULL)
    /* Translators: “by USER (ORGANISATION), DATE AND TIME” */
    return g_strdup_printf (_("by %s (%s), %s"), user, organisation, time);

  /* Translators: “by USER, DATE AND TIME” */
  return g_strdup_printf (_("by %s, %s"), user, time);
}


/*
 * GObject overrides
 */

static void
ps_decision_value_class_init (PsDecisionValueClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-decision-value.ui");
  gtk_widget_class_bind_template_child (widget_class, PsDecisionValue, value_label);
  gtk_widget_class_bind_template_child (widget_class, PsDecisionValue, origin_label);
  gtk_widget_class_bind_template_child (widget_class, PsDecisionValue, use_button);
}

static void
ps_decision_value_init (PsDecisionValue *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}


/*
 * Public API
 */

/**
 * ps_decision_value_new:
 * @heading: “Kept” or “Discarded”
 * @source: the value with who set it and when, from the journal
 * @texts: (nullable): the texts of the journal's numbers, see
 *   ps_resolution_get_texts()
 * @use_target: (nullable): the target of `conflicts.use-value` that puts
 *   this value back, or %NULL for no button
 *
 * Returns: (transfer floating): a new #PsDecisionValue
 */
GtkWidget *
ps_decision_value_new (const char  *heading,
                       JsonObject  *source,
                       PsJsonTexts *texts,
                       GVariant    *use_target)
{
  PsDecisionValue *self = g_object_new (PS_TYPE_DECISION_VALUE, NULL);
  g_autofree char *value = format_value (json_object_get_member (source, "value"), texts);
  g_autofree char *origin = format_source (source);
  g_autofree char *line = NULL;

  /* Translators: “Kept: VALUE” or “Discarded: VALUE” */
  line = g_strdup_printf (_("%s: %s"), heading, value);
  gtk_label_set_text (self->value_label, line);
  gtk_label_set_text (self->origin_label, origin);

  if (use_target != NULL)
    {
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->use_button), "conflicts.use-value");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->use_button), use_target);
      gtk_widget_show (GTK_WIDGET (self->use_button));
    }

  return GTK_WIDGET (self);
}

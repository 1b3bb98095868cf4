/* ps-quiet-widgets.c: setting a widget's words only when they change
 *
 * A status read every few seconds sets the same words again and again.
 * Each setting is a change to a screen reader, which then says them again
 * and may lose its place: these set only what differs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "ps-quiet-widgets.h"

/**
 * ps_quiet_label_set_text:
 * @label: a #GtkLabel
 * @text: its new text
 *
 * Sets @label's text unless it already reads @text.
 */
void
ps_quiet_label_set_text (GtkLabel   *label,
                         const char *text)
{
  g_return_if_fail (GTK_IS_LABEL (label));

  if (g_strcmp0 (gtk_label_get_text (label), text) != 0)
    gtk_label_set_text (label, text);
}

/**
 * ps_quiet_button_set:
 * @button: a #GtkButton
 * @label: its label, with a mnemonic
 * @action_name: (nullable): the action it activates
 * @tooltip: (nullable): its tooltip
 *
 * Sets what @button says and does, each only when it changes: setting the
 * label remakes the button's label widget.
 */
void
ps_quiet_button_set (GtkButton  *button,
                     const char *label,
                     const char *action_name,
                     const char *tooltip)
{
  g_autofree char *shown_tooltip = NULL;

  g_return_if_fail (GTK_IS_BUTTON (button));

  shown_tooltip = gtk_widget_get_tooltip_text (GTK_WIDGET (button));
  if (g_strcmp0 (gtk_button_get_label (button), label) != 0)
    gtk_button_set_label (button, label);
  if (g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), action_name) != 0)
    gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action_name);
  if (g_strcmp0 (shown_tooltip, tooltip) != 0)
    gtk_widget_set_tooltip_text (GTK_WIDGET (button), tooltip);
}

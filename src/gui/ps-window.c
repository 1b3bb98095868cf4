/* ps-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-window"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-window.h"

struct _PsWindow
{
  GtkApplicationWindow parent_instance;
};

G_DEFINE_FINAL_TYPE (PsWindow, ps_window, GTK_TYPE_APPLICATION_WINDOW)

static void
ps_window_class_init (PsWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/primero/Sync/ps-window.ui");
}

static void
ps_window_init (PsWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

PsWindow *
ps_window_new (PsApplication *application)
{
  return g_object_new (PS_TYPE_WINDOW,
                       "application", application,
                       NULL);
}

/* ps-window-state.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Remembers the window's size and whether it was maximized, so the
 * application opens the way the user left it.
 */

#define G_LOG_DOMAIN "ps-window-state"

#include "ps-window-state.h"

typedef struct
{
  GSettings *settings;
  int        width;
  int        height;
  gboolean   maximized;
} WindowState;

static void
window_state_free (gpointer data)
{
  WindowState *state = data;

  g_clear_object (&state->settings);
  g_free (state);
}

/* The size is read while the window is shown: once destroyed, GTK reports
 * a default size instead of the one the user chose.
 */
static void
on_window_size_allocate_cb (GtkWidget     *widget,
                            GtkAllocation *allocation,
                            WindowState   *state)
{
  if (!state->maximized)
    gtk_window_get_size (GTK_WINDOW (widget), &state->width, &state->height);
}

static gboolean
on_window_state_event_cb (GtkWidget           *widget,
                          GdkEventWindowState *event,
                          WindowState         *state)
{
  state->maximized = (event->new_window_state & GDK_WINDOW_STATE_MAXIMIZED) != 0;
  return GDK_EVENT_PROPAGATE;
}

static void
on_window_destroy_cb (GtkWidget   *widget,
                      WindowState *state)
{
  g_settings_delay (state->settings);
  g_settings_set_int (state->settings, "window-width", state->width);
  g_settings_set_int (state->settings, "window-height", state->height);
  g_settings_set_boolean (state->settings, "window-maximized", state->maximized);
  g_settings_apply (state->settings);
}

/**
 * ps_window_state_bind:
 * @window: a window not yet shown
 * @settings: settings with `window-width`, `window-height` and `window-maximized`
 *
 * Restores @window's size from @settings and saves it back when @window is
 * destroyed.
 */
void
ps_window_state_bind (GtkWindow *window,
                      GSettings *settings)
{
  WindowState *state;

  g_return_if_fail (GTK_IS_WINDOW (window));
  g_return_if_fail (G_IS_SETTINGS (settings));

  state = g_new0 (WindowState, 1);
  state->settings = g_object_ref (settings);
  state->width = MAX (g_settings_get_int (settings, "window-width"), 360);
  state->height = MAX (g_settings_get_int (settings, "window-height"), 300);
  state->maximized = g_settings_get_boolean (settings, "window-maximized");

  gtk_window_set_default_size (window, state->width, state->height);
  if (state->maximized)
    gtk_window_maximize (window);

  g_object_set_data_full (G_OBJECT (window), "ps-window-state", state, window_state_free);
  g_signal_connect (window, "size-allocate", G_CALLBACK (on_window_size_allocate_cb), state);
  g_signal_connect (window, "window-state-event", G_CALLBACK (on_window_state_event_cb), state);
  g_signal_connect (window, "destroy", G_CALLBACK (on_window_destroy_cb), state);
}

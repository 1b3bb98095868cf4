/* ps-preferences-dialog.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-context.h"

G_BEGIN_DECLS

#define PS_TYPE_PREFERENCES_DIALOG (ps_preferences_dialog_get_type ())

G_DECLARE_FINAL_TYPE (PsPreferencesDialog, ps_preferences_dialog, PS, PREFERENCES_DIALOG, GtkDialog)

PsPreferencesDialog *ps_preferences_dialog_new (GtkWindow *parent,
                                                PsContext *context,
                                                GSettings *settings);

G_END_DECLS

/* ps-diagnostics-dialog.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-diagnostics.h"

G_BEGIN_DECLS

#define PS_TYPE_DIAGNOSTICS_DIALOG (ps_diagnostics_dialog_get_type ())

G_DECLARE_FINAL_TYPE (PsDiagnosticsDialog, ps_diagnostics_dialog, PS, DIAGNOSTICS_DIALOG, GtkDialog)

PsDiagnosticsDialog *ps_diagnostics_dialog_new             (GtkWindow           *parent,
                                                            PsDiagnostics       *diagnostics,
                                                            const char          *description);
PsDiagnostics       *ps_diagnostics_dialog_get_diagnostics (PsDiagnosticsDialog *self);

G_END_DECLS

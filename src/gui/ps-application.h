/* ps-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-context.h"

G_BEGIN_DECLS

#define PS_TYPE_APPLICATION (ps_application_get_type ())

G_DECLARE_FINAL_TYPE (PsApplication, ps_application, PS, APPLICATION, GtkApplication)

PsApplication *ps_application_new             (void);
PsApplication *ps_application_new_for_context (PsContext     *context);
PsContext     *ps_application_get_context     (PsApplication *self);
GSettings     *ps_application_get_settings    (PsApplication *self);

G_END_DECLS

/* ps-decision-value.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "ps-json.h"

G_BEGIN_DECLS

#define PS_TYPE_DECISION_VALUE (ps_decision_value_get_type ())

G_DECLARE_FINAL_TYPE (PsDecisionValue, ps_decision_value, PS, DECISION_VALUE, GtkBox)

GtkWidget *ps_decision_value_new (const char  *heading,
                                  JsonObject  *source,
                                  PsJsonTexts *texts,
                                  GVariant    *use_target);

G_END_DECLS

/* ps-decision-card.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "ps-resolution.h"

G_BEGIN_DECLS

#define PS_TYPE_DECISION_CARD (ps_decision_card_get_type ())

G_DECLARE_FINAL_TYPE (PsDecisionCard, ps_decision_card, PS, DECISION_CARD, GtkFrame)

GtkWidget *ps_decision_card_new (PsResolution *resolution,
                                 JsonObject   *decision);

G_END_DECLS

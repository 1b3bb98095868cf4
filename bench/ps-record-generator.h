/* ps-record-generator.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

JsonNode  *ps_record_generator_child           (GRand    *rand,
                                                guint     index);
JsonArray *ps_record_generator_conflict_leaves (GRand    *rand,
                                                JsonNode *record,
                                                guint     n_leaves);
JsonNode  *ps_record_generator_deleted         (JsonNode *record);
JsonNode  *ps_record_generator_edit            (GRand    *rand,
                                                JsonNode *record);

G_END_DECLS

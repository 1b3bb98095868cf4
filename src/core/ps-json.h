/* ps-json.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Readers for JSON from other servers: a member of the wrong type reads as
 * missing, never as a critical warning.
 */
const char *ps_json_get_string         (JsonObject *object,
                                        const char *member);
JsonArray  *ps_json_get_array          (JsonObject *object,
                                        const char *member);
JsonObject *ps_json_get_object         (JsonObject *object,
                                        const char *member);
JsonObject *ps_json_get_object_element (JsonArray  *array,
                                        guint       index);
const char *ps_json_get_string_element (JsonArray  *array,
                                        guint       index);
JsonObject *ps_json_parse_object       (const char *data,
                                        gsize       length);

G_END_DECLS

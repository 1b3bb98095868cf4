/* ps-json.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deeper JSON from other servers is refused rather than risk the stack. */
#define PS_JSON_MAX_DEPTH 128

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
gboolean    ps_json_depth_within       (const char *data,
                                        gsize       len,
                                        guint       max_depth);
JsonObject *ps_json_parse_untrusted_object (const char *data,
                                            gsize       length,
                                            gsize       max_size);

G_END_DECLS

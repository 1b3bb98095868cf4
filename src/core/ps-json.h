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
gint64      ps_json_get_int            (JsonObject *object,
                                        const char *member,
                                        gint64      fallback);
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

#define PS_JSON_ERROR (ps_json_error_quark ())

/**
 * PsJsonError:
 * @PS_JSON_ERROR_INVALID: not JSON, or not of the expected type
 * @PS_JSON_ERROR_TOO_DEEP: nested deeper than allowed
 * @PS_JSON_ERROR_TOO_LARGE: larger than allowed
 *
 * Errors from reading JSON this program did not write.
 */
typedef enum
{
  PS_JSON_ERROR_INVALID,
  PS_JSON_ERROR_TOO_DEEP,
  PS_JSON_ERROR_TOO_LARGE,
} PsJsonError;

GQuark      ps_json_error_quark            (void);
JsonNode   *ps_json_parse_untrusted        (const char  *data,
                                            gsize        len,
                                            gsize        max_size,
                                            guint        max_depth,
                                            GError     **error);
JsonObject *ps_json_parse_untrusted_object (GBytes      *bytes,
                                            gsize        max_size,
                                            GError     **error);

G_END_DECLS

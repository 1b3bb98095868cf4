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

G_BEGIN_DECLS

/**
 * PsJsonTexts:
 *
 * The JSON text each node of parsed trees was read from, so that a value
 * passed on unchanged is written byte for byte as it came: json-glib holds
 * numbers as 64-bit integers or doubles, which lose big integers, `-0` and
 * the exact notation, and it re-escapes strings.
 */
typedef struct _PsJsonTexts PsJsonTexts;

PsJsonTexts *ps_json_texts_new     (void);
PsJsonTexts *ps_json_texts_ref     (PsJsonTexts  *texts);
void         ps_json_texts_unref   (PsJsonTexts  *texts);
JsonNode    *ps_json_texts_parse   (PsJsonTexts  *texts,
                                    GBytes       *bytes,
                                    guint         max_depth,
                                    GError      **error);
const char  *ps_json_texts_lookup  (PsJsonTexts  *texts,
                                    JsonNode     *node,
                                    gsize        *out_len);
void         ps_json_texts_copy    (PsJsonTexts  *texts,
                                    JsonNode     *node,
                                    PsJsonTexts  *source,
                                    JsonNode     *source_node);
void         ps_json_texts_copy_tree (PsJsonTexts  *texts,
                                      JsonNode     *node,
                                      PsJsonTexts  *source,
                                      JsonNode     *source_node);
void         ps_json_texts_add_all (PsJsonTexts  *texts,
                                    PsJsonTexts  *source);
void         ps_json_write         (GString      *out,
                                    JsonNode     *node,
                                    PsJsonTexts  *texts);
void         ps_json_write_edited  (GString      *out,
                                    JsonNode     *node,
                                    PsJsonTexts  *texts);
void         ps_json_write_pretty  (GString      *out,
                                    JsonNode     *node,
                                    PsJsonTexts  *texts);
gboolean     ps_json_numbers_equal (const char   *a,
                                    gsize         a_len,
                                    const char   *b,
                                    gsize         b_len);
char        *ps_json_number_key    (const char   *text,
                                    gsize         len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PsJsonTexts, ps_json_texts_unref)

G_END_DECLS

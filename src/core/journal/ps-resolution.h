/* ps-resolution.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "ps-json.h"

G_BEGIN_DECLS

#define PS_TYPE_RESOLUTION (ps_resolution_get_type ())

G_DECLARE_FINAL_TYPE (PsResolution, ps_resolution, PS, RESOLUTION, GObject)

PsResolution *ps_resolution_new               (JsonObject   *entry);
PsResolution *ps_resolution_new_with_texts    (JsonObject   *entry,
                                               PsJsonTexts  *texts);
PsJsonTexts  *ps_resolution_get_texts         (PsResolution *self);
JsonObject   *ps_resolution_get_entry         (PsResolution *self);
const char   *ps_resolution_get_server_id     (PsResolution *self);
const char   *ps_resolution_get_database      (PsResolution *self);
const char   *ps_resolution_get_record_id     (PsResolution *self);
const char   *ps_resolution_get_display_id    (PsResolution *self);
const char   *ps_resolution_get_name          (PsResolution *self);
gboolean      ps_resolution_matches           (PsResolution *self,
                                               const char   *search);
const char   *ps_resolution_get_record_type   (PsResolution *self);
const char   *ps_resolution_get_time          (PsResolution *self);
JsonArray    *ps_resolution_get_decisions     (PsResolution *self);
guint         ps_resolution_get_n_decisions   (PsResolution *self);
gboolean      ps_resolution_equal             (PsResolution *self,
                                               PsResolution *other);
char         *ps_resolution_dup_type_label    (const char   *record_type);
char         *ps_resolution_format_time       (const char   *iso8601);

G_END_DECLS

/* ps-couch-database.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "ps-bandwidth-limiter.h"
#include "ps-couch-error.h"

G_BEGIN_DECLS

#define PS_TYPE_COUCH_DATABASE (ps_couch_database_get_type ())

G_DECLARE_FINAL_TYPE (PsCouchDatabase, ps_couch_database, PS, COUCH_DATABASE, GObject)

/**
 * PsCouchAuth:
 * @PS_COUCH_AUTH_BASIC: HTTP basic authentication sent with every request
 * @PS_COUCH_AUTH_SESSION: a `POST /_session` cookie, renewed when it expires
 */
typedef enum
{
  PS_COUCH_AUTH_BASIC,
  PS_COUCH_AUTH_SESSION,
} PsCouchAuth;

PsCouchDatabase *ps_couch_database_new                 (SoupSession          *session,
                                                        const char           *url,
                                                        GError              **error);
void             ps_couch_database_set_credentials     (PsCouchDatabase      *self,
                                                        const char           *username,
                                                        const char           *password);
const char      *ps_couch_database_get_username        (PsCouchDatabase      *self);
void             ps_couch_database_set_auth            (PsCouchDatabase      *self,
                                                        PsCouchAuth           auth);
void             ps_couch_database_set_pinned_fingerprint (PsCouchDatabase   *self,
                                                        const char           *sha256_hex);
void             ps_couch_database_set_retries         (PsCouchDatabase      *self,
                                                        guint                 retries);
void             ps_couch_database_set_bandwidth_limiters (PsCouchDatabase   *self,
                                                        PsBandwidthLimiter   *upload,
                                                        PsBandwidthLimiter   *download);
void             ps_couch_database_set_max_response_size (PsCouchDatabase    *self,
                                                        gsize                 max_size);
gsize            ps_couch_database_get_max_response_size (PsCouchDatabase    *self);
const char      *ps_couch_database_get_name            (PsCouchDatabase      *self);
const char      *ps_couch_database_get_host            (PsCouchDatabase      *self);
char            *ps_couch_database_dup_display_url     (PsCouchDatabase      *self);
char            *ps_couch_database_dup_identity_url    (PsCouchDatabase      *self);
void             ps_couch_database_request_async       (PsCouchDatabase      *self,
                                                        const char           *method,
                                                        const char           *path,
                                                        const char           *query,
                                                        GBytes               *body,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
JsonNode        *ps_couch_database_request_finish      (PsCouchDatabase      *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
void             ps_couch_database_request_bytes_async (PsCouchDatabase      *self,
                                                        const char           *method,
                                                        const char           *path,
                                                        const char           *query,
                                                        GBytes               *body,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
GBytes          *ps_couch_database_request_bytes_finish (PsCouchDatabase     *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);

SoupSession     *ps_couch_session_new                  (void);
GBytes          *ps_couch_json_to_bytes                (JsonNode             *node);
char            *ps_couch_escape_id                    (const char           *doc_id);

void             ps_couch_database_request_keeping_ids_async  (PsCouchDatabase      *self,
                                                               const char           *method,
                                                               const char           *path,
                                                               const char           *query,
                                                               GBytes               *body,
                                                               GCancellable         *cancellable,
                                                               GAsyncReadyCallback   callback,
                                                               gpointer              user_data);
JsonNode        *ps_couch_database_request_keeping_ids_finish (PsCouchDatabase      *self,
                                                               GAsyncResult         *result,
                                                               GError              **error);

G_END_DECLS

/* ps-server.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define PS_TYPE_SERVER         (ps_server_get_type ())
#define PS_TYPE_SYNC_DIRECTION (ps_sync_direction_get_type ())
#define PS_SERVER_ERROR        (ps_server_error_quark ())

G_DECLARE_FINAL_TYPE (PsServer, ps_server, PS, SERVER, GObject)

typedef struct _PsCouchDatabase PsCouchDatabase;

/**
 * PsSyncDirection:
 * @PS_SYNC_DIRECTION_BOTH: pull from the server, then push to it
 * @PS_SYNC_DIRECTION_PUSH: only send this instance's changes to the server
 * @PS_SYNC_DIRECTION_PULL: only bring the server's changes here
 *
 * Which way records travel between this instance and a server.
 */
typedef enum
{
  PS_SYNC_DIRECTION_BOTH,
  PS_SYNC_DIRECTION_PUSH,
  PS_SYNC_DIRECTION_PULL,
} PsSyncDirection;

/**
 * PsServerError:
 * @PS_SERVER_ERROR_INVALID_URL: the address is not a usable http or https URL
 * @PS_SERVER_ERROR_INVALID: a setting is missing or malformed
 *
 * Errors about a server's settings.
 */
typedef enum
{
  PS_SERVER_ERROR_INVALID_URL,
  PS_SERVER_ERROR_INVALID,
} PsServerError;

#define PS_SERVER_DEFAULT_DATABASE_PREFIX "primero"
#define PS_SERVER_DEFAULT_DATABASE_SUFFIX "production"
#define PS_SERVER_DEFAULT_LOCAL_URL       "http://127.0.0.1:5984"

GType             ps_sync_direction_get_type       (void);
const char       *ps_sync_direction_to_string      (PsSyncDirection     direction);
gboolean          ps_sync_direction_from_string    (const char         *text,
                                                    PsSyncDirection    *direction);

GQuark            ps_server_error_quark            (void);
gboolean          ps_server_normalize_url          (const char         *text,
                                                    char              **normalized,
                                                    gboolean           *is_insecure_http,
                                                    GError            **error);
char             *ps_server_normalize_fingerprint  (const char         *text,
                                                    GError            **error);

PsServer         *ps_server_new                    (const char         *description,
                                                    const char         *url);
PsServer         *ps_server_new_from_json          (JsonNode           *node,
                                                    GError            **error);
JsonNode         *ps_server_to_json                (PsServer           *self);
gboolean          ps_server_validate               (PsServer           *self,
                                                    GError            **error);
gboolean          ps_server_property_is_state      (GParamSpec         *pspec);
void              ps_server_copy_settings          (PsServer           *self,
                                                    PsServer           *from);
const char       *ps_server_get_id                 (PsServer           *self);
const char       *ps_server_get_description        (PsServer           *self);
void              ps_server_set_description        (PsServer           *self,
                                                    const char         *description);
const char       *ps_server_get_url                (PsServer           *self);
void              ps_server_set_url                (PsServer           *self,
                                                    const char         *url);
gboolean          ps_server_get_is_insecure        (PsServer           *self);
const char       *ps_server_get_username           (PsServer           *self);
void              ps_server_set_username           (PsServer           *self,
                                                    const char         *username);
gboolean          ps_server_get_continuous         (PsServer           *self);
void              ps_server_set_continuous         (PsServer           *self,
                                                    gboolean            continuous);
guint             ps_server_get_bandwidth_limit    (PsServer           *self);
void              ps_server_set_bandwidth_limit    (PsServer           *self,
                                                    guint               kbytes_per_second);
guint             ps_server_get_max_attachment_size (PsServer          *self);
void              ps_server_set_max_attachment_size (PsServer          *self,
                                                    guint               kbytes);
gboolean          ps_server_get_defer_attachments  (PsServer           *self);
void              ps_server_set_defer_attachments  (PsServer           *self,
                                                    gboolean            defer);
gboolean          ps_server_get_allow_metered      (PsServer           *self);
void              ps_server_set_allow_metered      (PsServer           *self,
                                                    gboolean            allow_metered);
gboolean          ps_server_get_on_server          (PsServer           *self);
void              ps_server_set_on_server          (PsServer           *self,
                                                    gboolean            on_server);
PsSyncDirection   ps_server_get_direction          (PsServer           *self);
void              ps_server_set_direction          (PsServer           *self,
                                                    PsSyncDirection     direction);
const char       *ps_server_get_database_prefix    (PsServer           *self);
void              ps_server_set_database_prefix    (PsServer           *self,
                                                    const char         *prefix);
const char       *ps_server_get_database_suffix    (PsServer           *self);
void              ps_server_set_database_suffix    (PsServer           *self,
                                                    const char         *suffix);
const char      **ps_server_get_databases          (PsServer           *self);
void              ps_server_set_databases          (PsServer           *self,
                                                    const char *const  *databases);
const char      **ps_server_get_record_types       (PsServer           *self);
void              ps_server_set_record_types       (PsServer           *self,
                                                    const char *const  *record_types);
char            **ps_server_dup_database_names     (PsServer           *self);
const char       *ps_server_get_pinned_fingerprint (PsServer           *self);
void              ps_server_set_pinned_fingerprint (PsServer           *self,
                                                    const char         *fingerprint);
const char       *ps_server_get_last_outcome       (PsServer           *self);
void              ps_server_set_last_outcome       (PsServer           *self,
                                                    const char         *outcome);
gint64            ps_server_get_last_sync_time     (PsServer           *self);
void              ps_server_set_last_sync_time     (PsServer           *self,
                                                    gint64              unix_time);
PsCouchDatabase  *ps_server_open_database          (PsServer           *self,
                                                    SoupSession        *session,
                                                    const char         *password,
                                                    const char         *name,
                                                    GError            **error);

G_END_DECLS

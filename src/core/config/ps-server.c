/* ps-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-server"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-couch-database.h"
#include "ps-server.h"
#include "ps-url.h"

/**
 * PsServer:
 *
 * A configured Primero instance: where it is, who to log in as, which record
 * databases to sync and how. The password is not part of it; it lives in the
 * keyring under the server's id (see ps_secrets_store_async()).
 */
struct _PsServer
{
  GObject          parent_instance;

  char            *id;
  char            *description;
  char            *url;
  char            *username;
  char            *database_prefix;
  char            *database_suffix;
  char           **databases;
  char           **record_types;
  char            *pinned_fingerprint;
  char            *last_outcome;
  gint64           last_sync_time;
  PsSyncDirection  direction;
  guint            bandwidth_limit;   /* kB/s each way; 0 = none */
  guint            max_attachment_size;   /* kB; 0 = none */
  guint            continuous : 1;
  guint            allow_metered : 1;
  guint            on_server : 1;
  guint            defer_attachments : 1;
  guint            is_insecure : 1;
};

G_DEFINE_FINAL_TYPE (PsServer, ps_server, G_TYPE_OBJECT)

G_DEFINE_QUARK (ps-server-error-quark, ps_server_error)

enum {
  PROP_0,
  PROP_ID,
  PROP_DESCRIPTION,
  PROP_URL,
  PROP_IS_INSECURE,
  PROP_USERNAME,
  PROP_CONTINUOUS,
  PROP_DIRECTION,
  PROP_DATABASE_PREFIX,
  PROP_DATABASE_SUFFIX,
  PROP_DATABASES,
  PROP_RECORD_TYPES,
  PROP_PINNED_FINGERPRINT,
  PROP_LAST_OUTCOME,
  PROP_LAST_SYNC_TIME,
  PROP_BANDWIDTH_LIMIT,
  PROP_ALLOW_METERED,
  PROP_MAX_ATTACHMENT_SIZE,
  PROP_DEFER_ATTACHMENTS,
  PROP_ON_SERVER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char * const default_record_types[] = {
  "child", "incident", "tracing_request", NULL
};

GType
ps_sync_direction_get_type (void)
{
  static gsize type_id = 0;
  static const GEnumValue values[] = {
    { PS_SYNC_DIRECTION_BOTH, "PS_SYNC_DIRECTION_BOTH", "both" },
    { PS_SYNC_DIRECTION_PUSH, "PS_SYNC_DIRECTION_PUSH", "push" },
    { PS_SYNC_DIRECTION_PULL, "PS_SYNC_DIRECTION_PULL", "pull" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type_id))
    {
      GType type = g_enum_register_static (g_intern_static_string ("PsSyncDirection"), values);

      g_once_init_leave (&type_id, type);
    }

  return type_id;
}

/**
 * ps_sync_direction_to_string:
 * @direction: a #PsSyncDirection
 *
 * Returns: the name of @direction as saved and as typed on the command line:
 *   `both`, `push` or `pull`
 */
const char *
ps_sync_direction_to_string (PsSyncDirection direction)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (PS_TYPE_SYNC_DIRECTION);
  GEnumValue *value = g_enum_get_value (klass, direction);

  g_return_val_if_fail (value != NULL, NULL);

  return value->value_nick;
}

/**
 * ps_sync_direction_from_string:
 * @text: `both`, `push` or `pull`
 * @direction: (out): return location for the direction
 *
 * Returns: %TRUE when @text names a direction
 */
gboolean
ps_sync_direction_from_string (const char      *text,
                               PsSyncDirection *direction)
{
  g_autoptr(GEnumClass) klass = NULL;
  GEnumValue *value;

  g_return_val_if_fail (direction != NULL, FALSE);

  if (text == NULL)
    return FALSE;

  klass = g_type_class_ref (PS_TYPE_SYNC_DIRECTION);
  value = g_enum_get_value_by_nick (klass, text);
  if (value == NULL)
    return FALSE;

  *direction = value->value;
  return TRUE;
}

/**
 * ps_server_normalize_url:
 * @text: a URL as the user typed it
 * @normalized: (out) (optional): return location for the normalised URL
 * @is_insecure_http: (out) (optional): return location for whether traffic
 *   to this URL would cross the network unencrypted (http to a host other
 *   than this machine)
 * @error: return location for a #PsServerError
 *
 * As ps_url_normalize_server(), with the error in #PsServerError.
 *
 * Returns: %TRUE when @text is usable
 */
gboolean
ps_server_normalize_url (const char  *text,
                         char       **normalized,
                         gboolean    *is_insecure_http,
                         GError     **error)
{
  g_autoptr(GError) url_error = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ps_url_normalize_server (text, normalized, is_insecure_http, &url_error))
    {
      /* The message never quotes the URL. */
      g_set_error_literal (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID_URL,
                           url_error->message);
      return FALSE;
    }

  return TRUE;
}

/**
 * ps_server_normalize_fingerprint:
 * @text: a SHA-256 fingerprint, in hexadecimal, with or without colons
 * @error: return location for a #PsServerError
 *
 * Returns: (transfer full) (nullable): the fingerprint as 64 lowercase
 *   hexadecimal digits, or %NULL if @text is not one
 */
char *
ps_server_normalize_fingerprint (const char  *text,
                                 GError     **error)
{
  g_autoptr(GString) digits = g_string_new (NULL);

  g_return_val_if_fail (text != NULL, NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ':' || g_ascii_isspace (*p))
        continue;
      if (!g_ascii_isxdigit (*p))
        break;
      g_string_append_c (digits, g_ascii_tolower (*p));
    }

  if (digits->len != 64 || strspn (text, ": \t0123456789abcdefABCDEF") != strlen (text))
    {
      g_set_error_literal (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID,
                           _("A SHA-256 certificate fingerprint has 64 hexadecimal digits"));
      return NULL;
    }

  return g_string_free (g_steal_pointer (&digits), FALSE);
}

static gboolean
set_string (char       **field,
            const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static gboolean
set_strv (char              ***field,
          const char * const  *value)
{
  static const char * const empty[] = { NULL };

  if (value == NULL)
    value = empty;

  if (g_strv_equal ((const char * const *) *field, value))
    return FALSE;

  g_strfreev (*field);
  *field = g_strdupv ((char **) value);
  return TRUE;
}

/* CouchDB's rule for database names. */
static gboolean
is_valid_database_name (const char *name)
{
  if (!g_ascii_islower (name[0]))
    return FALSE;

  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && strchr ("_$()+-/", *p) == NULL)
        return FALSE;
    }

  return TRUE;
}

/**
 * ps_server_validate:
 * @self: a #PsServer
 * @error: return location for a #PsServerError
 *
 * Checks that @self can be synced: it has a description, a usable URL,
 * at least one valid database name and a well-formed fingerprint.
 *
 * Returns: %TRUE when every setting is usable
 */
gboolean
ps_server_validate (PsServer  *self,
                    GError   **error)
{
  g_auto(GStrv) names = NULL;

  g_return_val_if_fail (PS_IS_SERVER (self), FALSE);

  if (self->description == NULL || *self->description == '\0')
    {
      g_set_error_literal (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID,
                           _("Enter a description of the server"));
      return FALSE;
    }

  if (!ps_server_normalize_url (self->url, NULL, NULL, error))
    return FALSE;

  names = ps_server_dup_database_names (self);
  if (names[0] == NULL)
    {
      g_set_error_literal (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID,
                           _("There are no databases to sync: enter database names "
                             "or record types"));
      return FALSE;
    }

  for (guint i = 0; names[i] != NULL; i++)
    {
      if (!is_valid_database_name (names[i]))
        {
          g_set_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID,
                       _("“%s” is not a valid database name: it must start with a lowercase "
                         "letter and contain only lowercase letters, digits and _$()+-/"),
                       names[i]);
          return FALSE;
        }
    }

  if (self->pinned_fingerprint != NULL)
    {
      g_autofree char *fingerprint = NULL;

      fingerprint = ps_server_normalize_fingerprint (self->pinned_fingerprint, error);
      if (fingerprint == NULL)
        return FALSE;
    }

  return TRUE;
}

static void
add_strv_member (JsonBuilder        *builder,
                 const char         *member,
                 const char * const *strv)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; strv[i] != NULL; i++)
    json_builder_add_string_value (builder, strv[i]);
  json_builder_end_array (builder);
}

static void
add_optional_string_member (JsonBuilder *builder,
                            const char  *member,
                            const char  *value)
{
  if (value == NULL)
    return;

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

/**
 * ps_server_to_json:
 * @self: a #PsServer
 *
 * Serialises the settings of @self, as saved in `servers.json`. There is
 * no password in them, and no run-time state (how the last sync went):
 * the server store keeps that apart. ps_server_new_from_json() still
 * reads the state that files from before carry.
 *
 * Returns: (transfer full): a JSON object
 */
JsonNode *
ps_server_to_json (PsServer *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  json_builder_begin_object (builder);
  add_optional_string_member (builder, "id", self->id);
  add_optional_string_member (builder, "description", self->description);
  add_optional_string_member (builder, "url", self->url);
  add_optional_string_member (builder, "username", self->username);
  json_builder_set_member_name (builder, "continuous");
  json_builder_add_boolean_value (builder, self->continuous);
  add_optional_string_member (builder, "direction",
                              ps_sync_direction_to_string (self->direction));
  add_optional_string_member (builder, "database-prefix", self->database_prefix);
  add_optional_string_member (builder, "database-suffix", self->database_suffix);
  add_strv_member (builder, "databases", (const char * const *) self->databases);
  add_strv_member (builder, "record-types", (const char * const *) self->record_types);
  add_optional_string_member (builder, "pinned-fingerprint", self->pinned_fingerprint);
  json_builder_set_member_name (builder, "bandwidth-limit");
  json_builder_add_int_value (builder, self->bandwidth_limit);
  json_builder_set_member_name (builder, "allow-metered");
  json_builder_add_boolean_value (builder, self->allow_metered);
  json_builder_set_member_name (builder, "defer-attachments");
  json_builder_add_boolean_value (builder, self->defer_attachments);
  json_builder_set_member_name (builder, "max-attachment-size");
  json_builder_add_int_value (builder, self->max_attachment_size);
  json_builder_set_member_name (builder, "on_server");
  json_builder_add_boolean_value (builder, self->on_server);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static gboolean
check_member_type (JsonObject  *object,
                   const char  *member,
                   GType        value_type,
                   JsonNode   **node,
                   GError     **error)
{
  *node = json_object_get_member (object, member);
  if (*node == NULL || JSON_NODE_HOLDS_NULL (*node))
    {
      *node = NULL;
      return TRUE;
    }

  if (value_type == JSON_TYPE_ARRAY ? JSON_NODE_HOLDS_ARRAY (*node)
                                    : json_node_get_value_type (*node) == value_type)
    return TRUE;

  g_set_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID,
               _("The setting “%s” of a server has the wrong type"), member);
  return FALSE;
}

static gboolean
read_string (JsonObject  *object,
             const char  *member,
             const char **value,
             GError     **error)
{
  JsonNode *node;

  if (!check_member_type (object, member, G_TYPE_STRING, &node, error))
    return FALSE;

  *value = node != NULL ? json_node_get_string (node) : NULL;
  return TRUE;
}

static gboolean
read_strv (JsonObject   *object,
           const char   *member,
           GStrv        *value,
           GError      **error)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  JsonArray *array;
  JsonNode *node;

  if (!check_member_type (object, member, JSON_TYPE_ARRAY, &node, error))
    return FALSE;

  if (node == NULL)
    {
      *value = NULL;
      return TRUE;
    }

  builder = g_strv_builder_new ();
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (json_node_get_value_type (element) != G_TYPE_STRING)
        {
          g_set_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID,
                       _("The setting “%s” of a server has the wrong type"), member);
          return FALSE;
        }
      g_strv_builder_add (builder, json_node_get_string (element));
    }

  *value = g_strv_builder_end (builder);
  return TRUE;
}

/* A size or rate in kB; 0 means no limit. */
static gboolean
read_limit (JsonObject  *object,
            const char  *member_name,
            PsServer    *server,
            void       (*setter) (PsServer *, guint),
            GError     **error)
{
  JsonNode *member;
  gint64 value;

  if (!check_member_type (object, member_name, G_TYPE_INT64, &member, error))
    return FALSE;
  if (member == NULL)
    return TRUE;

  value = json_node_get_int (member);
  if (value < 0 || value > G_MAXUINT)
    {
      g_set_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID,
                   _("The setting “%s” of a server is out of range"), member_name);
      return FALSE;
    }

  setter (server, (guint) value);
  return TRUE;
}

/**
 * ps_server_new_from_json:
 * @node: a JSON object as written by ps_server_to_json()
 * @error: return location for a #PsServerError
 *
 * Returns: (transfer full) (nullable): the server, or %NULL if @node does
 *   not describe a valid one
 */
PsServer *
ps_server_new_from_json (JsonNode  *node,
                         GError   **error)
{
  g_autoptr(PsServer) server = NULL;
  g_auto(GStrv) databases = NULL;
  g_auto(GStrv) record_types = NULL;
  const char *id, *description, *url, *username, *direction_text;
  const char *prefix, *suffix, *fingerprint, *outcome;
  PsSyncDirection direction = PS_SYNC_DIRECTION_BOTH;
  JsonObject *object;
  JsonNode *member;

  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID,
                           _("A server entry is not a JSON object"));
      return NULL;
    }

  object = json_node_get_object (node);
  if (!read_string (object, "id", &id, error) ||
      !read_string (object, "description", &description, error) ||
      !read_string (object, "url", &url, error) ||
      !read_string (object, "username", &username, error) ||
      !read_string (object, "direction", &direction_text, error) ||
      !read_string (object, "database-prefix", &prefix, error) ||
      !read_string (object, "database-suffix", &suffix, error) ||
      !read_string (object, "pinned-fingerprint", &fingerprint, error) ||
      !read_string (object, "last-outcome", &outcome, error) ||
      !read_strv (object, "databases", &databases, error) ||
      !read_strv (object, "record-types", &record_types, error))
    return NULL;

  if (id == NULL || *id == '\0')
    {
      g_set_error_literal (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID,
                           _("A server entry has no id"));
      return NULL;
    }

  if (direction_text != NULL && !ps_sync_direction_from_string (direction_text, &direction))
    {
      g_set_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID,
                   _("Unknown sync direction “%s”: use both, push or pull"), direction_text);
      return NULL;
    }

  server = g_object_new (PS_TYPE_SERVER,
                         "id", id,
                         "description", description,
                         "url", url,
                         "username", username,
                         "direction", direction,
                         "pinned-fingerprint", fingerprint,
                         "last-outcome", outcome,
                         NULL);

  if (prefix != NULL)
    ps_server_set_database_prefix (server, prefix);
  if (suffix != NULL)
    ps_server_set_database_suffix (server, suffix);
  if (databases != NULL)
    ps_server_set_databases (server, (const char * const *) databases);
  if (record_types != NULL)
    ps_server_set_record_types (server, (const char * const *) record_types);

  if (!check_member_type (object, "continuous", G_TYPE_BOOLEAN, &member, error))
    return NULL;
  if (member != NULL)
    ps_server_set_continuous (server, json_node_get_boolean (member));

  if (!check_member_type (object, "defer-attachments", G_TYPE_BOOLEAN, &member, error))
    return NULL;
  if (member != NULL)
    ps_server_set_defer_attachments (server, json_node_get_boolean (member));

  if (!check_member_type (object, "allow-metered", G_TYPE_BOOLEAN, &member, error))
    return NULL;
  if (member != NULL)
    ps_server_set_allow_metered (server, json_node_get_boolean (member));

  if (!check_member_type (object, "on_server", G_TYPE_BOOLEAN, &member, error))
    return NULL;
  if (member != NULL)
    ps_server_set_on_server (server, json_node_get_boolean (member));

  if (!read_limit (object, "bandwidth-limit", server, ps_server_set_bandwidth_limit, error) ||
      !read_limit (object, "max-attachment-size", server, ps_server_set_max_attachment_size,
                   error))
    return NULL;

  if (!check_member_type (object, "last-sync-time", G_TYPE_INT64, &member, error))
    return NULL;
  if (member != NULL)
    ps_server_set_last_sync_time (server, json_node_get_int (member));

  if (!ps_server_validate (server, error))
    return NULL;

  return g_steal_pointer (&server);
}

/**
 * ps_server_property_is_state:
 * @pspec: a property of #PsServer
 *
 * Returns: whether @pspec is run-time state (how the last sync went)
 *   rather than a setting
 */
gboolean
ps_server_property_is_state (GParamSpec *pspec)
{
  g_return_val_if_fail (pspec != NULL, FALSE);

  return pspec == properties[PROP_LAST_OUTCOME] || pspec == properties[PROP_LAST_SYNC_TIME];
}

/**
 * ps_server_copy_settings:
 * @self: a #PsServer
 * @from: the server to copy the settings of
 *
 * Gives @self the settings of @from; its id and run-time state stay.
 */
void
ps_server_copy_settings (PsServer *self,
                         PsServer *from)
{
  g_return_if_fail (PS_IS_SERVER (self));
  g_return_if_fail (PS_IS_SERVER (from));

  g_object_freeze_notify (G_OBJECT (self));
  for (guint i = 1; i < N_PROPS; i++)
    {
      GParamSpec *pspec = properties[i];
      g_auto(GValue) value = G_VALUE_INIT;

      if ((pspec->flags & G_PARAM_WRITABLE) == 0 ||
          (pspec->flags & G_PARAM_CONSTRUCT_ONLY) != 0 ||
          ps_server_property_is_state (pspec))
        continue;

      g_value_init (&value, pspec->value_type);
      g_object_get_property (G_OBJECT (from), pspec->name, &value);
      g_object_set_property (G_OBJECT (self), pspec->name, &value);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * ps_server_dup_database_names:
 * @self: a #PsServer
 *
 * The record databases to sync: the explicit list when there is one,
 * otherwise `PREFIX_TYPE_SUFFIX` for each record type (Primero v1 keeps
 * each record type in its own database).
 *
 * Returns: (transfer full): the database names
 */
char **
ps_server_dup_database_names (PsServer *self)
{
  g_autoptr(GStrvBuilder) builder = NULL;

  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  if (self->databases[0] != NULL)
    return g_strdupv (self->databases);

  builder = g_strv_builder_new ();
  for (guint i = 0; self->record_types[i] != NULL; i++)
    {
      g_autoptr(GString) name = g_string_new (NULL);

      if (self->database_prefix != NULL && *self->database_prefix != '\0')
        g_string_append_printf (name, "%s_", self->database_prefix);
      g_string_append (name, self->record_types[i]);
      if (self->database_suffix != NULL && *self->database_suffix != '\0')
        g_string_append_printf (name, "_%s", self->database_suffix);

      g_strv_builder_add (builder, name->str);
    }

  return g_strv_builder_end (builder);
}

/**
 * ps_server_get_id:
 * @self: a #PsServer
 *
 * Returns: the stable id of @self, which also keys its password
 */
const char *
ps_server_get_id (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  return self->id;
}

/**
 * ps_server_get_description:
 * @self: a #PsServer
 *
 * Returns: (nullable): the name the user gave @self
 */
const char *
ps_server_get_description (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  return self->description;
}

/**
 * ps_server_set_description:
 * @self: a #PsServer
 * @description: (nullable): a name for the server; surrounding blanks are
 *   dropped
 */
void
ps_server_set_description (PsServer   *self,
                           const char *description)
{
  g_autofree char *trimmed = NULL;

  g_return_if_fail (PS_IS_SERVER (self));

  if (description != NULL)
    trimmed = g_strstrip (g_strdup (description));

  if (set_string (&self->description, trimmed))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCRIPTION]);
}

/**
 * ps_server_get_url:
 * @self: a #PsServer
 *
 * Returns: (nullable): the URL of the CouchDB server, without credentials
 */
const char *
ps_server_get_url (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  return self->url;
}

/**
 * ps_server_set_url:
 * @self: a #PsServer
 * @url: (nullable): the URL of the CouchDB server
 *
 * Sets the URL, normalised by ps_server_normalize_url() when it is valid.
 * An invalid URL is kept as given, and ps_server_validate() reports it; a
 * URL with a user name or password is never kept.
 */
void
ps_server_set_url (PsServer   *self,
                   const char *url)
{
  g_autofree char *normalized = NULL;
  gboolean is_insecure = FALSE;

  g_return_if_fail (PS_IS_SERVER (self));

  if (url != NULL && !ps_server_normalize_url (url, &normalized, &is_insecure, NULL))
    {
      /* Never keep credentials, not even to report them as invalid. */
      if (ps_url_has_userinfo (url))
        {
          g_debug ("A URL with a user name or password was not kept");
          return;
        }
      normalized = g_strdup (url);
    }

  if (set_string (&self->url, normalized))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);

  if (self->is_insecure != is_insecure)
    {
      self->is_insecure = is_insecure;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_INSECURE]);
    }
}

/**
 * ps_server_get_is_insecure:
 * @self: a #PsServer
 *
 * Returns: whether traffic to @self crosses the network unencrypted
 */
gboolean
ps_server_get_is_insecure (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), FALSE);

  return self->is_insecure;
}

/**
 * ps_server_get_username:
 * @self: a #PsServer
 *
 * Returns: (nullable): the CouchDB user to log in as
 */
const char *
ps_server_get_username (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  return self->username;
}

/**
 * ps_server_set_username:
 * @self: a #PsServer
 * @username: (nullable): the CouchDB user; empty for none
 */
void
ps_server_set_username (PsServer   *self,
                        const char *username)
{
  g_return_if_fail (PS_IS_SERVER (self));

  if (username != NULL && *username == '\0')
    username = NULL;

  if (set_string (&self->username, username))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USERNAME]);
}

/**
 * ps_server_get_continuous:
 * @self: a #PsServer
 *
 * Returns: whether @self is kept in sync as changes happen, rather than
 *   once per request
 */
gboolean
ps_server_get_continuous (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), FALSE);

  return self->continuous;
}

/**
 * ps_server_set_continuous:
 * @self: a #PsServer
 * @continuous: whether to follow changes continuously
 */
void
ps_server_set_continuous (PsServer *self,
                          gboolean  continuous)
{
  g_return_if_fail (PS_IS_SERVER (self));

  continuous = !!continuous;
  if (self->continuous == (guint) continuous)
    return;

  self->continuous = continuous;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTINUOUS]);
}

/**
 * ps_server_get_bandwidth_limit:
 * @self: a #PsServer
 *
 * Returns: the cap on this server's traffic in kB/s, for each direction
 *   separately; 0 for none
 */
guint
ps_server_get_bandwidth_limit (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), 0);

  return self->bandwidth_limit;
}

void
ps_server_set_bandwidth_limit (PsServer *self,
                               guint     kbytes_per_second)
{
  g_return_if_fail (PS_IS_SERVER (self));

  if (self->bandwidth_limit == kbytes_per_second)
    return;

  self->bandwidth_limit = kbytes_per_second;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BANDWIDTH_LIMIT]);
}

/**
 * ps_server_get_max_attachment_size:
 * @self: a #PsServer
 *
 * Returns: the largest attachment synced with this server, in kB; 0 for
 *   no limit. Records with a larger one wait until the limit allows.
 */
guint
ps_server_get_max_attachment_size (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), 0);

  return self->max_attachment_size;
}

void
ps_server_set_max_attachment_size (PsServer *self,
                                   guint     kbytes)
{
  g_return_if_fail (PS_IS_SERVER (self));

  if (self->max_attachment_size == kbytes)
    return;

  self->max_attachment_size = kbytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_ATTACHMENT_SIZE]);
}

/**
 * ps_server_get_defer_attachments:
 * @self: a #PsServer
 *
 * Returns: whether a sync copies the records without attachments first,
 *   and those with attachments after
 */
gboolean
ps_server_get_defer_attachments (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), FALSE);

  return self->defer_attachments;
}

void
ps_server_set_defer_attachments (PsServer *self,
                                 gboolean  defer)
{
  g_return_if_fail (PS_IS_SERVER (self));

  defer = !!defer;
  if (self->defer_attachments == (guint) defer)
    return;

  self->defer_attachments = defer;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFER_ATTACHMENTS]);
}

/**
 * ps_server_get_allow_metered:
 * @self: a #PsServer
 *
 * Returns: whether @self may sync over a connection that may cost money
 */
gboolean
ps_server_get_allow_metered (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), FALSE);

  return self->allow_metered;
}

void
ps_server_set_allow_metered (PsServer *self,
                             gboolean  allow_metered)
{
  g_return_if_fail (PS_IS_SERVER (self));

  allow_metered = !!allow_metered;
  if (self->allow_metered == (guint) allow_metered)
    return;

  self->allow_metered = allow_metered;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLOW_METERED]);
}

/**
 * ps_server_get_on_server:
 * @self: a #PsServer
 *
 * Returns: whether @self is synced by this instance's CouchDB replicator,
 *   which keeps going when no desktop session is open
 */
gboolean
ps_server_get_on_server (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), FALSE);

  return self->on_server;
}

/**
 * ps_server_set_on_server:
 * @self: a #PsServer
 * @on_server: whether CouchDB's replicator syncs @self
 *
 * The replication documents follow only when the sync manager applies
 * them (ps_sync_manager_apply_server_replication_async()).
 */
void
ps_server_set_on_server (PsServer *self,
                         gboolean  on_server)
{
  g_return_if_fail (PS_IS_SERVER (self));

  on_server = !!on_server;
  if (self->on_server == (guint) on_server)
    return;

  self->on_server = on_server;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ON_SERVER]);
}

/**
 * ps_server_get_direction:
 * @self: a #PsServer
 *
 * Returns: which way records travel
 */
PsSyncDirection
ps_server_get_direction (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), PS_SYNC_DIRECTION_BOTH);

  return self->direction;
}

/**
 * ps_server_set_direction:
 * @self: a #PsServer
 * @direction: which way records travel
 */
void
ps_server_set_direction (PsServer        *self,
                         PsSyncDirection  direction)
{
  g_return_if_fail (PS_IS_SERVER (self));
  g_return_if_fail (direction <= PS_SYNC_DIRECTION_PULL);

  if (self->direction == direction)
    return;

  self->direction = direction;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRECTION]);
}

/**
 * ps_server_get_database_prefix:
 * @self: a #PsServer
 *
 * Returns: the prefix of the record database names, `primero` by default
 */
const char *
ps_server_get_database_prefix (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  return self->database_prefix;
}

/**
 * ps_server_set_database_prefix:
 * @self: a #PsServer
 * @prefix: (nullable): the prefix; empty or %NULL for none
 */
void
ps_server_set_database_prefix (PsServer   *self,
                               const char *prefix)
{
  g_return_if_fail (PS_IS_SERVER (self));

  if (set_string (&self->database_prefix, prefix != NULL ? prefix : ""))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DATABASE_PREFIX]);
}

/**
 * ps_server_get_database_suffix:
 * @self: a #PsServer
 *
 * Returns: the suffix of the record database names, `production` by default
 */
const char *
ps_server_get_database_suffix (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  return self->database_suffix;
}

/**
 * ps_server_set_database_suffix:
 * @self: a #PsServer
 * @suffix: (nullable): the suffix; empty or %NULL for none
 */
void
ps_server_set_database_suffix (PsServer   *self,
                               const char *suffix)
{
  g_return_if_fail (PS_IS_SERVER (self));

  if (set_string (&self->database_suffix, suffix != NULL ? suffix : ""))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DATABASE_SUFFIX]);
}

/**
 * ps_server_get_databases:
 * @self: a #PsServer
 *
 * Returns: (transfer none): the explicit list of databases, empty when the
 *   names derive from the prefix, record types and suffix
 */
const char **
ps_server_get_databases (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  return (const char **) self->databases;
}

/**
 * ps_server_set_databases:
 * @self: a #PsServer
 * @databases: (nullable) (array zero-terminated=1): database names, or
 *   %NULL or empty to derive them
 */
void
ps_server_set_databases (PsServer           *self,
                         const char * const *databases)
{
  g_return_if_fail (PS_IS_SERVER (self));

  if (set_strv (&self->databases, databases))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DATABASES]);
}

/**
 * ps_server_get_record_types:
 * @self: a #PsServer
 *
 * Returns: (transfer none): the record types whose databases are synced
 */
const char **
ps_server_get_record_types (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  return (const char **) self->record_types;
}

/**
 * ps_server_set_record_types:
 * @self: a #PsServer
 * @record_types: (nullable) (array zero-terminated=1): record types, or
 *   %NULL for the default `child`, `incident` and `tracing_request`
 */
void
ps_server_set_record_types (PsServer           *self,
                            const char * const *record_types)
{
  g_return_if_fail (PS_IS_SERVER (self));

  if (record_types == NULL)
    record_types = default_record_types;

  if (set_strv (&self->record_types, record_types))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECORD_TYPES]);
}

/**
 * ps_server_get_pinned_fingerprint:
 * @self: a #PsServer
 *
 * Returns: (nullable): the SHA-256 fingerprint of a certificate the user
 *   chose to trust for this server
 */
const char *
ps_server_get_pinned_fingerprint (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  return self->pinned_fingerprint;
}

/**
 * ps_server_set_pinned_fingerprint:
 * @self: a #PsServer
 * @fingerprint: (nullable): a SHA-256 fingerprint in hexadecimal, or %NULL
 */
void
ps_server_set_pinned_fingerprint (PsServer   *self,
                                  const char *fingerprint)
{
  g_autofree char *normalized = NULL;

  g_return_if_fail (PS_IS_SERVER (self));

  if (fingerprint != NULL && *fingerprint == '\0')
    fingerprint = NULL;

  /* Kept as given when malformed, for ps_server_validate() to report. */
  if (fingerprint != NULL)
    normalized = ps_server_normalize_fingerprint (fingerprint, NULL);
  if (normalized == NULL && fingerprint != NULL)
    normalized = g_strdup (fingerprint);

  if (set_string (&self->pinned_fingerprint, normalized))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PINNED_FINGERPRINT]);
}

/**
 * ps_server_get_last_outcome:
 * @self: a #PsServer
 *
 * Returns: (nullable): a summary of how the last sync went
 */
const char *
ps_server_get_last_outcome (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), NULL);

  return self->last_outcome;
}

/**
 * ps_server_set_last_outcome:
 * @self: a #PsServer
 * @outcome: (nullable): a summary of how the last sync went
 */
void
ps_server_set_last_outcome (PsServer   *self,
                            const char *outcome)
{
  g_return_if_fail (PS_IS_SERVER (self));

  if (set_string (&self->last_outcome, outcome))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_OUTCOME]);
}

/**
 * ps_server_get_last_sync_time:
 * @self: a #PsServer
 *
 * Returns: when the last sync finished, as a Unix time, or 0 if never
 */
gint64
ps_server_get_last_sync_time (PsServer *self)
{
  g_return_val_if_fail (PS_IS_SERVER (self), 0);

  return self->last_sync_time;
}

/**
 * ps_server_set_last_sync_time:
 * @self: a #PsServer
 * @unix_time: when the last sync finished, or 0 for never
 */
void
ps_server_set_last_sync_time (PsServer *self,
                              gint64    unix_time)
{
  g_return_if_fail (PS_IS_SERVER (self));

  if (self->last_sync_time == unix_time)
    return;

  self->last_sync_time = unix_time;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SYNC_TIME]);
}

static void
ps_server_constructed (GObject *object)
{
  PsServer *self = PS_SERVER (object);

  G_OBJECT_CLASS (ps_server_parent_class)->constructed (object);

  if (self->id == NULL || *self->id == '\0')
    {
      g_free (self->id);
      self->id = g_uuid_string_random ();
    }
}

static void
ps_server_finalize (GObject *object)
{
  PsServer *self = PS_SERVER (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->description, g_free);
  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->username, g_free);
  g_clear_pointer (&self->database_prefix, g_free);
  g_clear_pointer (&self->database_suffix, g_free);
  g_clear_pointer (&self->databases, g_strfreev);
  g_clear_pointer (&self->record_types, g_strfreev);
  g_clear_pointer (&self->pinned_fingerprint, g_free);
  g_clear_pointer (&self->last_outcome, g_free);

  G_OBJECT_CLASS (ps_server_parent_class)->finalize (object);
}

static void
ps_server_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PsServer *self = PS_SERVER (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;

    case PROP_URL:
      g_value_set_string (value, self->url);
      break;

    case PROP_IS_INSECURE:
      g_value_set_boolean (value, self->is_insecure);
      break;

    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;

    case PROP_CONTINUOUS:
      g_value_set_boolean (value, self->continuous);
      break;

    case PROP_BANDWIDTH_LIMIT:
      g_value_set_uint (value, self->bandwidth_limit);
      break;

    case PROP_ALLOW_METERED:
      g_value_set_boolean (value, self->allow_metered);
      break;

    case PROP_ON_SERVER:
      g_value_set_boolean (value, self->on_server);
      break;

    case PROP_MAX_ATTACHMENT_SIZE:
      g_value_set_uint (value, self->max_attachment_size);
      break;

    case PROP_DEFER_ATTACHMENTS:
      g_value_set_boolean (value, self->defer_attachments);
      break;

    case PROP_DIRECTION:
      g_value_set_enum (value, self->direction);
      break;

    case PROP_DATABASE_PREFIX:
      g_value_set_string (value, self->database_prefix);
      break;

    case PROP_DATABASE_SUFFIX:
      g_value_set_string (value, self->database_suffix);
      break;

    case PROP_DATABASES:
      g_value_set_boxed (value, self->databases);
      break;

    case PROP_RECORD_TYPES:
      g_value_set_boxed (value, self->record_types);
      break;

    case PROP_PINNED_FINGERPRINT:
      g_value_set_string (value, self->pinned_fingerprint);
      break;

    case PROP_LAST_OUTCOME:
      g_value_set_string (value, self->last_outcome);
      break;

    case PROP_LAST_SYNC_TIME:
      g_value_set_int64 (value, self->last_sync_time);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_server_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PsServer *self = PS_SERVER (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;

    case PROP_DESCRIPTION:
      ps_server_set_description (self, g_value_get_string (value));
      break;

    case PROP_URL:
      ps_server_set_url (self, g_value_get_string (value));
      break;

    case PROP_USERNAME:
      ps_server_set_username (self, g_value_get_string (value));
      break;

    case PROP_CONTINUOUS:
      ps_server_set_continuous (self, g_value_get_boolean (value));
      break;

    case PROP_BANDWIDTH_LIMIT:
      ps_server_set_bandwidth_limit (self, g_value_get_uint (value));
      break;

    case PROP_ALLOW_METERED:
      ps_server_set_allow_metered (self, g_value_get_boolean (value));
      break;

    case PROP_ON_SERVER:
      ps_server_set_on_server (self, g_value_get_boolean (value));
      break;

    case PROP_MAX_ATTACHMENT_SIZE:
      ps_server_set_max_attachment_size (self, g_value_get_uint (value));
      break;

    case PROP_DEFER_ATTACHMENTS:
      ps_server_set_defer_attachments (self, g_value_get_boolean (value));
      break;

    case PROP_DIRECTION:
      ps_server_set_direction (self, g_value_get_enum (value));
      break;

    case PROP_DATABASE_PREFIX:
      ps_server_set_database_prefix (self, g_value_get_string (value));
      break;

    case PROP_DATABASE_SUFFIX:
      ps_server_set_database_suffix (self, g_value_get_string (value));
      break;

    case PROP_DATABASES:
      ps_server_set_databases (self, g_value_get_boxed (value));
      break;

    case PROP_RECORD_TYPES:
      ps_server_set_record_types (self, g_value_get_boxed (value));
      break;

    case PROP_PINNED_FINGERPRINT:
      ps_server_set_pinned_fingerprint (self, g_value_get_string (value));
      break;

    case PROP_LAST_OUTCOME:
      ps_server_set_last_outcome (self, g_value_get_string (value));
      break;

    case PROP_LAST_SYNC_TIME:
      ps_server_set_last_sync_time (self, g_value_get_int64 (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_server_class_init (PsServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = ps_server_constructed;
  object_class->finalize = ps_server_finalize;
  object_class->get_property = ps_server_get_property;
  object_class->set_property = ps_server_set_property;

  /**
   * PsServer:id:
   *
   * A stable, random id; it also keys the password in the keyring.
   */
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_IS_INSECURE] =
    g_param_spec_boolean ("is-insecure", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE |
                           G_PARAM_STATIC_STRINGS));

  properties[PROP_USERNAME] =
    g_param_spec_string ("username", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_CONTINUOUS] =
    g_param_spec_boolean ("continuous", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  properties[PROP_BANDWIDTH_LIMIT] =
    g_param_spec_uint ("bandwidth-limit", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  properties[PROP_MAX_ATTACHMENT_SIZE] =
    g_param_spec_uint ("max-attachment-size", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  properties[PROP_DEFER_ATTACHMENTS] =
    g_param_spec_boolean ("defer-attachments", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  properties[PROP_ALLOW_METERED] =
    g_param_spec_boolean ("allow-metered", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  properties[PROP_ON_SERVER] =
    g_param_spec_boolean ("on-server", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  properties[PROP_DIRECTION] =
    g_param_spec_enum ("direction", NULL, NULL,
                       PS_TYPE_SYNC_DIRECTION,
                       PS_SYNC_DIRECTION_BOTH,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  properties[PROP_DATABASE_PREFIX] =
    g_param_spec_string ("database-prefix", NULL, NULL,
                         PS_SERVER_DEFAULT_DATABASE_PREFIX,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_DATABASE_SUFFIX] =
    g_param_spec_string ("database-suffix", NULL, NULL,
                         PS_SERVER_DEFAULT_DATABASE_SUFFIX,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * PsServer:databases:
   *
   * An explicit list of databases; when empty, the names derive from
   * #PsServer:database-prefix, #PsServer:record-types and
   * #PsServer:database-suffix.
   */
  properties[PROP_DATABASES] =
    g_param_spec_boxed ("databases", NULL, NULL,
                        G_TYPE_STRV,
                        (G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  properties[PROP_RECORD_TYPES] =
    g_param_spec_boxed ("record-types", NULL, NULL,
                        G_TYPE_STRV,
                        (G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  properties[PROP_PINNED_FINGERPRINT] =
    g_param_spec_string ("pinned-fingerprint", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_LAST_OUTCOME] =
    g_param_spec_string ("last-outcome", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_LAST_SYNC_TIME] =
    g_param_spec_int64 ("last-sync-time", NULL, NULL,
                        0, G_MAXINT64, 0,
                        (G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ps_server_init (PsServer *self)
{
  self->direction = PS_SYNC_DIRECTION_BOTH;
  self->database_prefix = g_strdup (PS_SERVER_DEFAULT_DATABASE_PREFIX);
  self->database_suffix = g_strdup (PS_SERVER_DEFAULT_DATABASE_SUFFIX);
  self->databases = g_new0 (char *, 1);
  self->record_types = g_strdupv ((char **) default_record_types);
}

/**
 * ps_server_new:
 * @description: (nullable): a name for the server
 * @url: (nullable): the URL of its CouchDB
 *
 * Returns: (transfer full): a new server with a fresh id and the default
 *   settings
 */
PsServer *
ps_server_new (const char *description,
               const char *url)
{
  return g_object_new (PS_TYPE_SERVER,
                       "description", description,
                       "url", url,
                       NULL);
}

/**
 * ps_server_open_database:
 * @self: a #PsServer
 * @session: the HTTP session
 * @password: (nullable): the password of the server's user
 * @name: a database name
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the database @name on this server,
 *   with its user's credentials and pinned certificate
 */
PsCouchDatabase *
ps_server_open_database (PsServer     *self,
                         SoupSession  *session,
                         const char   *password,
                         const char   *name,
                         GError      **error)
{
  g_autofree char *escaped = NULL;
  g_autofree char *url = NULL;
  g_autoptr(PsCouchDatabase) database = NULL;

  g_return_val_if_fail (PS_IS_SERVER (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  escaped = g_uri_escape_string (name, NULL, FALSE);
  url = g_strconcat (self->url, "/", escaped, NULL);
  database = ps_couch_database_new (session, url, error);
  if (database == NULL)
    return NULL;

  if (self->username != NULL && *self->username != '\0')
    ps_couch_database_set_credentials (database, self->username, password);
  if (self->pinned_fingerprint != NULL)
    ps_couch_database_set_pinned_fingerprint (database, self->pinned_fingerprint);

  return g_steal_pointer (&database);
}

/* ps-discovery.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A server's URL may be its CouchDB or the Primero web application in front
 * of it. When `GET /` is not CouchDB's welcome, the application is asked as
 * Primero v1 did: `POST /replications/configuration` with the user's
 * credentials answers the CouchDB URL (`target`, where `localhost` means
 * the application's own host) and the record databases' names.
 */

#define G_LOG_DOMAIN "ps-discovery"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ps-couch-error.h"
#include "ps-body-reader.h"
#include "ps-discovery.h"
#include "ps-host.h"
#include "ps-json.h"
#include "ps-secret-memory.h"
#include "ps-url.h"

/* In the order Primero lists its record types. */
static const char * const record_types[] = { "Child", "Incident", "TracingRequest" };

typedef struct
{
  SoupSession *session;
  GUri        *uri;
  char        *url;
  char        *username;
  char        *password;
} Discovery;

typedef struct
{
  char  *couch_url;
  char **databases;
} Found;

static void
discovery_free (Discovery *discovery)
{
  g_clear_object (&discovery->session);
  g_clear_pointer (&discovery->uri, g_uri_unref);
  g_clear_pointer (&discovery->url, g_free);
  g_clear_pointer (&discovery->username, g_free);
  ps_secrets_wipe (&discovery->password);
  g_free (discovery);
}

static void
found_free (Found *found)
{
  g_free (found->couch_url);
  g_strfreev (found->databases);
  g_free (found);
}

/* A welcome or the replication settings: small answers. */
#define MAX_ANSWER_SIZE (1024 * 1024)

static JsonObject *
parse_object (GBytes *body)
{
  g_autoptr(GError) error = NULL;
  JsonObject *object = ps_json_parse_untrusted_object (body, MAX_ANSWER_SIZE, &error);

  if (object == NULL)
    g_debug ("The answer is not a JSON object: %s", error->message);
  return object;
}

/* The target as a URL to keep: on the application's host when it says
 * localhost, and never with credentials in it.
 */
static char *
target_url (Discovery  *discovery,
            const char *target)
{
  g_autoptr(GUri) uri = ps_url_parse (target, NULL);
  g_autoptr(GUri) kept = NULL;
  const char *host;
  g_autofree char *text = NULL;
  gsize len;

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return NULL;

  host = g_uri_get_host (uri);
  if (ps_host_is_loopback (host))
    host = g_uri_get_host (discovery->uri);

  kept = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (uri), NULL, host,
                      g_uri_get_port (uri), g_uri_get_path (uri), NULL, NULL);
  text = g_uri_to_string (kept);
  len = strlen (text);
  while (len > 0 && text[len - 1] == '/')
    text[--len] = '\0';

  return g_steal_pointer (&text);
}

static void
on_configuration_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Discovery *discovery = g_task_get_task_data (task);
  SoupMessage *message = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  JsonObject *databases;
  const char *target;
  Found *found;

  body = ps_body_reader_send_finish (result, &message, &error);
  if (body == NULL)
    {
      g_task_return_error (task, ps_couch_error_from_io (error, g_uri_get_host (discovery->uri),
                                                         g_uri_get_port (discovery->uri)));
      return;
    }

  if (SOUP_STATUS_IS_REDIRECTION (soup_message_get_status (message)))
    {
      g_task_return_error (task, ps_couch_error_from_redirect (message));
      return;
    }

  if (soup_message_get_status (message) == SOUP_STATUS_UNAUTHORIZED)
    {
      g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_UNAUTHORIZED,
                               _("The Primero application refused the user name or password (401)"));
      return;
    }

  answer = SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)) ? parse_object (body) : NULL;
  target = answer != NULL ? json_object_get_string_member_with_default (answer, "target", NULL) : NULL;
  if (target == NULL)
    {
      g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_COUCHDB,
                               _("This address is neither a CouchDB server nor a Primero application "
                                 "that shares its replication settings"));
      return;
    }

  found = g_new0 (Found, 1);
  found->couch_url = target_url (discovery, target);
  databases = json_object_has_member (answer, "databases") &&
              JSON_NODE_HOLDS_OBJECT (json_object_get_member (answer, "databases"))
    ? json_object_get_object_member (answer, "databases")
    : NULL;
  for (guint i = 0; databases != NULL && i < G_N_ELEMENTS (record_types); i++)
    {
      const char *name = json_object_get_string_member_with_default (databases, record_types[i], NULL);

      if (name != NULL)
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_add (names, NULL);
  found->databases = names->len > 1 ? (char **) g_ptr_array_steal (names, NULL) : NULL;

  if (found->couch_url == NULL)
    {
      found_free (found);
      g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_NOT_COUCHDB,
                               _("The Primero application named a CouchDB address that is not valid"));
      return;
    }

  g_task_return_pointer (task, found, (GDestroyNotify) found_free);
}

/* A request for JSON, or %NULL when libsoup refuses the address: then
 * the task has returned (and is unreferenced).
 */
static SoupMessage *
new_json_message (GTask      *task,
                  const char *method,
                  const char *url)
{
  Discovery *discovery = g_task_get_task_data (task);
  SoupMessage *message;

  message = discovery->uri != NULL ? soup_message_new (method, url) : NULL;
  if (message == NULL)
    {
      g_task_return_new_error (task, PS_COUCH_ERROR, PS_COUCH_ERROR_INVALID_URL,
                               _("The address is not a valid URL"));
      g_object_unref (task);
      return NULL;
    }

  soup_message_headers_replace (soup_message_get_request_headers (message), "Accept",
                                "application/json");
  return message;
}

static void
ask_application (GTask *task)
{
  Discovery *discovery = g_task_get_task_data (task);
  g_autoptr(SoupMessage) message = NULL;
  g_autofree char *url = g_strconcat (discovery->url, "/replications/configuration", NULL);
  g_autoptr(GBytes) body = NULL;
  char *form;

  form = soup_form_encode ("user_name", discovery->username != NULL ? discovery->username : "",
                           "password", discovery->password != NULL ? discovery->password : "",
                           NULL);
  message = new_json_message (task, SOUP_METHOD_POST, url);
  if (message == NULL)
    {
      ps_secrets_wipe (&form);
      return;
    }
  /* The form holds the password: it is wiped when libsoup is done with it. */
  body = g_bytes_new_with_free_func (form, strlen (form), (GDestroyNotify) secret_password_free,
                                     form);
  soup_message_set_request_body_from_bytes (message, "application/x-www-form-urlencoded", body);
  /* A redirection would carry the password in the form elsewhere. */
  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);
  ps_body_reader_send_async (discovery->session, message, MAX_ANSWER_SIZE,
                             g_task_get_cancellable (task), on_configuration_cb, task);
}

static void
on_welcome_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  Discovery *discovery = g_task_get_task_data (task);
  SoupMessage *message = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) welcome = NULL;

  body = ps_body_reader_send_finish (result, &message, &error);
  if (body == NULL)
    {
      g_task_return_error (task, ps_couch_error_from_io (error, g_uri_get_host (discovery->uri),
                                                         g_uri_get_port (discovery->uri)));
      g_object_unref (task);
      return;
    }

  welcome = parse_object (body);
  if (welcome != NULL && (json_object_has_member (welcome, "couchdb") ||
                          json_object_has_member (welcome, "express-pouchdb")))
    {
      Found *found = g_new0 (Found, 1);

      found->couch_url = g_strdup (discovery->url);
      g_task_return_pointer (task, found, (GDestroyNotify) found_free);
      g_object_unref (task);
      return;
    }

  g_debug ("%s is not CouchDB (status %u); asking it as a Primero application",
           discovery->url, soup_message_get_status (message));
  ask_application (task);
}

/**
 * ps_discovery_run_async:
 * @session: a #SoupSession
 * @url: a normalised server URL, without credentials
 * @username: (nullable): the user, for a Primero application
 * @password: (nullable): the password, for a Primero application
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the CouchDB URL to use
 * @user_data: data for @callback
 */
void
ps_discovery_run_async (SoupSession         *session,
                        const char          *url,
                        const char          *username,
                        const char          *password,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Discovery *discovery = g_new0 (Discovery, 1);
  g_autoptr(SoupMessage) message = NULL;
  g_autofree char *welcome_url = NULL;

  g_task_set_source_tag (task, ps_discovery_run_async);
  g_task_set_task_data (task, discovery, (GDestroyNotify) discovery_free);
  discovery->session = g_object_ref (session);
  discovery->url = g_strdup (url);
  discovery->username = g_strdup (username);
  discovery->password = ps_secrets_dup (password);
  discovery->uri = ps_url_parse (url, NULL);

  welcome_url = g_strconcat (url, "/", NULL);
  message = new_json_message (task, SOUP_METHOD_GET, welcome_url);
  if (message == NULL)
    return;

  ps_body_reader_send_async (session, message, MAX_ANSWER_SIZE, cancellable, on_welcome_cb, task);
}

/**
 * ps_discovery_run_finish:
 * @result: the result
 * @couch_url: (out) (transfer full): the CouchDB URL to sync with
 * @databases: (out) (transfer full) (nullable): the record databases the
 *   application named, or %NULL when they follow the usual names
 * @changes: (out) (optional): what the CouchDB URL changes compared with
 *   the URL asked, which the user must agree to before it is used
 * @error: return location for a #PsCouchError
 */
gboolean
ps_discovery_run_finish (GAsyncResult       *result,
                         char              **couch_url,
                         char             ***databases,
                         PsDiscoveryChange  *changes,
                         GError            **error)
{
  Discovery *discovery;
  Found *found;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  discovery = g_task_get_task_data (G_TASK (result));
  found = g_task_propagate_pointer (G_TASK (result), error);
  if (found == NULL)
    return FALSE;

  if (changes != NULL)
    *changes = ps_discovery_compare (discovery->url, found->couch_url);
  *couch_url = g_steal_pointer (&found->couch_url);
  *databases = g_steal_pointer (&found->databases);
  found_free (found);
  return TRUE;
}

/**
 * ps_discovery_compare:
 * @application_url: the URL the user gave
 * @couch_url: the CouchDB URL its Primero application answered
 *
 * A Primero application may name any address: one that drops encryption
 * or leads to another host must not be taken silently.
 *
 * Returns: what @couch_url changes compared with @application_url
 */
PsDiscoveryChange
ps_discovery_compare (const char *application_url,
                      const char *couch_url)
{
  g_autoptr(GUri) application = NULL;
  g_autoptr(GUri) couch = NULL;
  PsDiscoveryChange changes = PS_DISCOVERY_CHANGE_NONE;

  g_return_val_if_fail (application_url != NULL, PS_DISCOVERY_CHANGE_NONE);
  g_return_val_if_fail (couch_url != NULL, PS_DISCOVERY_CHANGE_NONE);

  application = ps_url_parse (application_url, NULL);
  couch = ps_url_parse (couch_url, NULL);
  /* What cannot be compared is taken as the worst. */
  if (application == NULL || couch == NULL)
    return PS_DISCOVERY_CHANGE_UNENCRYPTED | PS_DISCOVERY_CHANGE_OTHER_HOST;

  if (g_ascii_strcasecmp (g_uri_get_scheme (application), "https") == 0 &&
      g_ascii_strcasecmp (g_uri_get_scheme (couch), "https") != 0)
    changes |= PS_DISCOVERY_CHANGE_UNENCRYPTED;

  if (g_ascii_strcasecmp (g_uri_get_host (application) != NULL ? g_uri_get_host (application) : "",
                          g_uri_get_host (couch) != NULL ? g_uri_get_host (couch) : "") != 0)
    changes |= PS_DISCOVERY_CHANGE_OTHER_HOST;

  return changes;
}

/* ps-diagnostics-couch.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Checks 5 to 7: is it CouchDB, does the login work, are the databases there.
 */

#define G_LOG_DOMAIN "ps-diagnostics"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-diagnostics-private.h"
#include "ps-url.h"

/* 5. HTTP: is it CouchDB? */

static void
on_discovery_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) answer = NULL;
  SoupMessage *message = NULL;
  const char *target = NULL;
  JsonNode *databases = NULL;

  body = ps_diag_finish_request (task, result, &message, &error);
  if (ps_diag_stop_if_cancelled (task))
    return;

  if (body != NULL && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    answer = ps_diag_parse_object (body);
  if (answer != NULL)
    {
      target = json_object_get_string_member_with_default (answer, "target", NULL);
      databases = json_object_get_member (answer, "databases");
    }

  if (target != NULL && databases != NULL)
    {
      g_autofree char *address = ps_url_strip_credentials (target);
      g_autoptr(GString) names = g_string_new (NULL);
      g_autofree char *explanation = NULL;
      g_autofree char *advice = NULL;
      g_autoptr(GList) values = NULL;

      if (JSON_NODE_HOLDS_ARRAY (databases))
        values = json_array_get_elements (json_node_get_array (databases));
      else if (JSON_NODE_HOLDS_OBJECT (databases))
        values = json_object_get_values (json_node_get_object (databases));

      for (GList *l = values; l != NULL; l = l->next)
        {
          if (!JSON_NODE_HOLDS_VALUE (l->data) ||
              json_node_get_value_type (l->data) != G_TYPE_STRING)
            continue;
          if (names->len > 0)
            g_string_append (names, ", ");
          g_string_append (names, json_node_get_string (l->data));
        }

      explanation = g_strdup_printf (_("This is the Primero web application, not its CouchDB "
                                       "database server. Primero says its CouchDB is at %s "
                                       "(databases: %s)."),
                                     address, names->len > 0 ? names->str : "?");
      advice = g_strdup_printf (_("Use %s as this server’s address."), address);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation, advice);
      return;
    }

  ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL,
                     _("This is the Primero web application, not its CouchDB database server."),
                     _("Ask the Primero administrator for the address of the CouchDB server behind "
                       "it (often the same host, on port 6984 or 5984)."));
}

static void
report_web_page (GTask       *task,
                 SoupMessage *message,
                 GBytes      *body)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  ps_diag_set_skip_reason (run, _("the address is not CouchDB’s"));

  if (ps_diag_body_contains (body, "primero"))
    {
      /* Primero's own sync asks the web application where its CouchDB is. */
      if (self->username != NULL && self->password != NULL)
        {
          g_autofree char *form = soup_form_encode ("user_name", self->username,
                                                    "password", self->password,
                                                    NULL);
          g_autoptr(GBytes) form_bytes = g_bytes_new_take (form, strlen (form));

          form = NULL;
          ps_diag_send_request (task, "POST", "/replications/configuration", form_bytes,
                                "application/x-www-form-urlencoded", FALSE, on_discovery_cb);
          return;
        }

      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL,
                         _("This is the Primero web application, not its CouchDB database server."),
                         _("Ask the Primero administrator for the address of the CouchDB server "
                           "behind it (often the same host, on port 6984 or 5984)."));
      return;
    }

  ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL,
                     _("A web page answered instead of CouchDB: this is a web site, a proxy or a "
                       "network login page (captive portal), not the database."),
                     _("Check the port in the address (CouchDB usually listens on 5984, or 6984 "
                       "for https). If this network has a login page, open a web browser, sign "
                       "in, then try again."));
}

static void
report_redirect (GTask       *task,
                 SoupMessage *message)
{
  Run *run = g_task_get_task_data (task);
  const char *location;
  g_autoptr(GUri) target = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *advice = NULL;

  ps_diag_set_skip_reason (run, _("the server sends visitors elsewhere"));

  location = soup_message_headers_get_one (soup_message_get_response_headers (message),
                                           "Location");
  if (location != NULL)
    target = g_uri_parse_relative (soup_message_get_uri (message), location,
                                   G_URI_FLAGS_ENCODED, NULL);
  if (target == NULL)
    {
      explanation = g_strdup_printf (_("The server answered with a redirection (%u) to "
                                       "nowhere."), soup_message_get_status (message));
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Check the address; this is not CouchDB."));
      return;
    }

  {
    g_autofree char *text = g_uri_to_string (target);

    shown = ps_url_strip_credentials (text);
  }
  explanation = g_strdup_printf (_("The server sends visitors to %s instead of answering."),
                                 shown);

  if (g_ascii_strcasecmp (g_uri_get_host (target) != NULL ? g_uri_get_host (target) : "",
                          run->host) == 0)
    advice = g_strdup_printf (_("Use the address it points to, %s, if that is the CouchDB "
                                "server."), shown);
  else
    advice = g_strdup (_("This network may be sending you to its login page (a captive "
                         "portal): open a web browser, sign in, then try again. Otherwise "
                         "check the address."));

  ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation, advice);
}

static void
on_root_answered_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autofree char *explanation = NULL;
  SoupMessage *message = NULL;
  guint status;

  body = ps_diag_finish_request (task, result, &message, &error);
  if (ps_diag_stop_if_cancelled (task))
    return;

  if (body == NULL)
    {
      ps_diag_set_skip_reason (run, _("the server does not answer"));

      if (ps_diag_is_timeout (run, error))
        {
          g_autofree char *limit = ps_diag_format_timeout (self);

          explanation = g_strdup_printf (_("The server accepted the connection but sent no "
                                           "answer within %s."), limit);
          ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                             _("The server, or a proxy in front of it, is stuck or overloaded. Ask "
                               "its administrator to check CouchDB; if this network filters "
                               "traffic, try from another network."));
          return;
        }

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
        {
          explanation = g_strdup_printf (_("The answer was not read to its end: %s, far more "
                                           "than CouchDB sends here."), error->message);
          ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                             _("Check the address: this is not CouchDB."));
          return;
        }

      explanation = g_strdup_printf (_("The server closed the connection without answering "
                                       "(%s)."), error->message);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Check that the port is CouchDB’s (usually 5984, or 6984 for https) and "
                           "that the address starts with https:// only if the server speaks "
                           "https."));
      return;
    }

  ps_diag_note_server_date (task, message);
  status = soup_message_get_status (message);

  if (status == SOUP_STATUS_UNAUTHORIZED && !run->send_credentials && self->username != NULL)
    {
      /* Some servers require a login for everything. */
      run->send_credentials = TRUE;
      ps_diag_send_request (task, "GET", "/", NULL, NULL, TRUE, on_root_answered_cb);
      return;
    }

  if (status == SOUP_STATUS_UNAUTHORIZED)
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING,
                         _("The server asks for a login before it says what it is, so it cannot be "
                           "confirmed as CouchDB yet."),
                         _("See the login check below."));
      return;
    }

  if (SOUP_STATUS_IS_REDIRECTION (status))
    {
      report_redirect (task, message);
      return;
    }

  if (ps_diag_looks_like_html (message, body))
    {
      report_web_page (task, message, body);
      return;
    }

  if (status >= 500)
    {
      ps_diag_set_skip_reason (run, _("the server is failing"));
      explanation = g_strdup_printf (_("The server answered with an error (%u %s): it is "
                                       "reachable, but CouchDB or a proxy in front of it is "
                                       "failing."),
                                     status, soup_message_get_reason_phrase (message));
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Ask the server’s administrator to check that CouchDB is running; a "
                           "proxy answering 502, 503 or 504 cannot reach it."));
      return;
    }

  welcome = ps_diag_parse_object (body);

  if (welcome != NULL && SOUP_STATUS_IS_SUCCESSFUL (status) &&
      json_object_has_member (welcome, "couchdb"))
    {
      const char *version = json_object_get_string_member_with_default (welcome, "version", "?");

      explanation = g_strdup_printf (_("CouchDB %s answers."), version);
      ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  if (welcome != NULL && SOUP_STATUS_IS_SUCCESSFUL (status) &&
      json_object_has_member (welcome, "express-pouchdb"))
    {
      const char *version = json_object_get_string_member_with_default (welcome, "version", "?");

      explanation = g_strdup_printf (_("PouchDB Server %s answers; it speaks CouchDB’s "
                                       "protocol."), version);
      ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  ps_diag_set_skip_reason (run, _("the address is not CouchDB’s"));

  if (welcome != NULL && SOUP_STATUS_IS_SUCCESSFUL (status) &&
      json_object_has_member (welcome, "db_name"))
    {
      g_autofree char *server = g_strdup (run->root);
      g_autofree char *advice = NULL;
      char *slash = strrchr (server, '/');

      if (slash != NULL && slash > strstr (server, "://") + 2)
        *slash = '\0';
      explanation = g_strdup_printf (_("This address names the database “%s”, not the "
                                       "server."),
                                     json_object_get_string_member_with_default (welcome,
                                                                                 "db_name", "?"));
      advice = g_strdup_printf (_("Use the server’s address without the database name: %s."),
                                server);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation, advice);
      return;
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      explanation = g_strdup_printf (_("The server answered “%u %s” at this address: it is not "
                                       "CouchDB, or CouchDB is served under another path."),
                                     status, soup_message_get_reason_phrase (message));
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Check the address: when CouchDB sits behind a proxy under a path, "
                           "include the path, as in https://example.org/couchdb."));
      return;
    }

  ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, _("The server answered, but not as CouchDB does."),
                     _("Check the address and the port: another service answers there."));
}

void
ps_diag_check_http (GTask *task)
{
  ps_diag_start_check (task, "http", _("CouchDB server"));
  ps_diag_send_request (task, "GET", "/", NULL, NULL, FALSE, on_root_answered_cb);
}

/* 6. Credentials */

static gboolean
session_has_role (JsonObject *session,
                  const char *role)
{
  JsonObject *user_ctx;
  JsonArray *roles;

  if (session == NULL)
    return FALSE;

  user_ctx = json_object_get_object_member (session, "userCtx");
  if (user_ctx == NULL || !json_object_has_member (user_ctx, "roles") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (user_ctx, "roles")))
    return FALSE;

  roles = json_object_get_array_member (user_ctx, "roles");
  for (guint i = 0; i < json_array_get_length (roles); i++)
    {
      JsonNode *node = json_array_get_element (roles, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING &&
          g_str_equal (json_node_get_string (node), role))
        return TRUE;
    }

  return FALSE;
}

static char *
session_roles (JsonObject *session)
{
  g_autoptr(GString) text = g_string_new (NULL);
  JsonObject *user_ctx = json_object_get_object_member (session, "userCtx");
  JsonArray *roles;

  if (user_ctx == NULL || !json_object_has_member (user_ctx, "roles") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (user_ctx, "roles")))
    return g_strdup ("");

  roles = json_object_get_array_member (user_ctx, "roles");
  for (guint i = 0; i < json_array_get_length (roles); i++)
    {
      JsonNode *node = json_array_get_element (roles, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        continue;
      if (text->len > 0)
        g_string_append (text, ", ");
      g_string_append (text, json_node_get_string (node));
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static const char *
session_name (JsonObject *session)
{
  JsonObject *user_ctx;

  if (session == NULL)
    return NULL;

  user_ctx = json_object_get_object_member (session, "userCtx");
  if (user_ctx == NULL)
    return NULL;

  return json_object_get_string_member_with_default (user_ctx, "name", NULL);
}

static const char *admin_party_explanation_with_user =
  N_("The password was accepted, but this server lets anyone in as an administrator, with no "
     "password at all (“admin party”).");
static const char *admin_party_explanation =
  N_("This server lets anyone in as an administrator, with no password at all (“admin "
     "party”).");
static const char *admin_party_advice =
  N_("Ask the server’s administrator to create an admin user: until then, anyone who reaches "
     "the server can read and change every record.");

static void
on_anonymous_session_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) session = NULL;
  SoupMessage *message = NULL;

  body = ps_diag_finish_request (task, result, &message, &error);
  if (ps_diag_stop_if_cancelled (task))
    return;

  if (body != NULL && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    session = ps_diag_parse_object (body);

  if (session_has_role (session, "_admin"))
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING,
                         self->username != NULL ? _(admin_party_explanation_with_user)
                                                : _(admin_party_explanation),
                         _(admin_party_advice));
      return;
    }

  if (self->username == NULL)
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING,
                         _("No user name was given: the server is used anonymously."),
                         _("Enter the user name and password of the CouchDB user that Primero uses "
                           "for replication."));
      return;
    }

  /* The logged-in answer was kept in the phase before. */
  g_assert (run->login_explanation != NULL);
  ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, run->login_explanation, NULL);
}

static void
on_session_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) session = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *roles = NULL;
  SoupMessage *message = NULL;
  const char *name;
  guint status;

  body = ps_diag_finish_request (task, result, &message, &error);
  if (ps_diag_stop_if_cancelled (task))
    return;

  if (body == NULL)
    {
      ps_diag_set_skip_reason (run, _("the server stopped answering"));
      ps_diag_end_with_transport_error (task, error);
      return;
    }

  if (run->have_clock == FALSE)
    ps_diag_note_server_date (task, message);

  status = soup_message_get_status (message);
  if (status == SOUP_STATUS_UNAUTHORIZED)
    {
      ps_diag_set_string (&run->skip_db_reason, _("the server refused the user name or password"));
      explanation = g_strdup_printf (_("The server refused the user name “%s” or its "
                                       "password."), self->username);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Check the user name, and type the password again (capital letters "
                           "count). If the password was changed on the server, change it here "
                           "too."));
      return;
    }

  if (status == SOUP_STATUS_FORBIDDEN)
    {
      ps_diag_set_string (&run->skip_db_reason, _("the user may not log in"));
      explanation = g_strdup_printf (_("The user “%s” is known, but may not log in to this "
                                       "server."), self->username);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Ask the server’s administrator to give this user access, or use the "
                           "account Primero uses for replication."));
      return;
    }

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    session = ps_diag_parse_object (body);

  if (session == NULL)
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING,
                         _("The server cannot say who is logged in; the database checks show "
                           "whether the login works."),
                         NULL);
      return;
    }

  name = session_name (session);
  if (g_strcmp0 (name, self->username) != 0)
    {
      if (session_has_role (session, "_admin"))
        {
          ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING, _(admin_party_explanation),
                             _(admin_party_advice));
          return;
        }

      explanation = g_strdup_printf (_("The server did not confirm the login of “%s”; the "
                                       "database checks show what it may do."),
                                     self->username);
      ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING, explanation, NULL);
      return;
    }

  roles = session_roles (session);
  if (session_has_role (session, "_admin"))
    explanation = g_strdup_printf (_("Logged in as “%s”, a server administrator."),
                                   self->username);
  else if (*roles != '\0')
    explanation = g_strdup_printf (_("Logged in as “%s” (roles: %s)."), self->username, roles);
  else
    explanation = g_strdup_printf (_("Logged in as “%s”, a user without roles; the database "
                                     "checks show what it may do."), self->username);

  /* Kept until the admin-party question is answered. */
  g_free (run->login_explanation);
  run->login_explanation = g_steal_pointer (&explanation);
  ps_diag_send_request (task, "GET", "/_session", NULL, NULL, FALSE, on_anonymous_session_cb);
}

void
ps_diag_check_credentials (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autofree char *explanation = NULL;

  ps_diag_start_check (task, "credentials", _("Login"));

  if (self->username == NULL)
    {
      ps_diag_send_request (task, "GET", "/_session", NULL, NULL, FALSE, on_anonymous_session_cb);
      return;
    }

  if (self->password == NULL)
    {
      ps_diag_set_string (&run->skip_db_reason, _("there is no password"));
      explanation = g_strdup_printf (_("No password is known for the user “%s”."),
                                     self->username);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Enter the password in the server’s settings; it is kept in the desktop "
                           "keyring."));
      return;
    }

  ps_diag_send_request (task, "GET", "/_session", NULL, NULL, TRUE, on_session_cb);
}

/* 7. Record databases */

static char *
database_path (const char *database,
               const char *rest)
{
  g_autofree char *escaped = g_uri_escape_string (database, NULL, FALSE);

  return g_strconcat ("/", escaped, rest, NULL);
}

static const char *
current_database (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  return self->databases[run->db_index];
}

static char *
describe_user (PsDiagnostics *self)
{
  if (self->username != NULL)
    return g_strdup_printf (_("the user “%s”"), self->username);

  return g_strdup (_("an anonymous user"));
}

static void
on_note_removed_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *explanation = NULL;
  SoupMessage *message = NULL;
  const char *database = current_database (task);

  body = ps_diag_finish_request (task, result, &message, &error);
  if (ps_diag_stop_if_cancelled (task))
    return;

  if (body == NULL || !SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    {
      explanation = g_strdup_printf (_("“%s” exists and accepts writes, but the test note "
                                       "%s could not be removed again."),
                                     database, run->doc_path);
      ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING, explanation,
                         _("The note is harmless and is not replicated; the server’s administrator "
                           "can delete it."));
      return;
    }

  if (run->doc_count >= 0)
    explanation = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                "“%s” exists (%lld record), can be read and "
                                                "accepts writes.",
                                                "“%s” exists (%lld records), can be read and "
                                                "accepts writes.",
                                                run->doc_count),
                                   database, (long long) run->doc_count);
  else
    explanation = g_strdup_printf (_("“%s” exists, can be read and accepts writes."), database);

  ps_diag_end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
}

static void
on_note_written_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *who = describe_user (self);
  g_autofree char *path = NULL;
  g_autofree char *escaped_rev = NULL;
  SoupMessage *message = NULL;
  const char *database = current_database (task);
  const char *rev;
  guint status;

  body = ps_diag_finish_request (task, result, &message, &error);
  if (ps_diag_stop_if_cancelled (task))
    return;

  if (body == NULL)
    {
      ps_diag_end_with_transport_error (task, error);
      return;
    }

  status = soup_message_get_status (message);
  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    {
      explanation = g_strdup_printf (_("“%s” can be read, but %s may not write to it (%u)."),
                                     database, who, status);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("A sync writes records: ask the server’s administrator to make the user "
                           "a member or admin of the database."));
      return;
    }

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    answer = ps_diag_parse_object (body);
  rev = answer != NULL ? json_object_get_string_member_with_default (answer, "rev", NULL) : NULL;
  if (rev == NULL)
    {
      explanation = g_strdup_printf (_("“%s” can be read, but writing a test note failed "
                                       "(%u %s)."),
                                     database, status, soup_message_get_reason_phrase (message));
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Ask the server’s administrator whether the database is read-only or "
                           "the disk is full."));
      return;
    }

  ps_diag_set_string (&run->doc_rev, rev);
  escaped_rev = g_uri_escape_string (rev, NULL, FALSE);
  {
    g_autofree char *doc = database_path (database, "/");

    path = g_strconcat (doc, run->doc_path, "?rev=", escaped_rev, NULL);
  }
  ps_diag_send_request (task, "DELETE", path, NULL, NULL, TRUE, on_note_removed_cb);
}

static void
on_database_info_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) note = NULL;
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *who = describe_user (self);
  g_autofree char *uuid = NULL;
  g_autofree char *path = NULL;
  g_autofree char *stamp = NULL;
  g_autofree char *note_text = NULL;
  SoupMessage *message = NULL;
  const char *database = current_database (task);
  guint status;

  body = ps_diag_finish_request (task, result, &message, &error);
  if (ps_diag_stop_if_cancelled (task))
    return;

  if (body == NULL)
    {
      ps_diag_end_with_transport_error (task, error);
      return;
    }

  status = soup_message_get_status (message);
  if (status == SOUP_STATUS_NOT_FOUND)
    {
      explanation = g_strdup_printf (_("The database “%s” does not exist on this server."),
                                     database);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Check the database names in the server’s settings (by default "
                           "primero_<record type>_production), and ask the server’s administrator "
                           "which names Primero uses there."));
      return;
    }

  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    {
      explanation = g_strdup_printf (_("“%s” exists, but %s may not read it (%u)."),
                                     database, who, status);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Ask the server’s administrator to make the user a member or admin of "
                           "the database, or use the account Primero uses for replication."));
      return;
    }

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    info = ps_diag_parse_object (body);
  if (info == NULL)
    {
      explanation = g_strdup_printf (_("Asking for “%s” gave an unexpected answer (%u %s)."),
                                     database, status, soup_message_get_reason_phrase (message));
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("Ask the server’s administrator to check the database."));
      return;
    }

  run->doc_count = -1;
  if (json_object_has_member (info, "doc_count") &&
      JSON_NODE_HOLDS_VALUE (json_object_get_member (info, "doc_count")))
    run->doc_count = json_object_get_int_member (info, "doc_count");

  /* A _local note is never replicated, so writing it disturbs nothing. */
  uuid = g_uuid_string_random ();
  g_free (run->doc_path);
  run->doc_path = g_strconcat (DIAGNOSTIC_DOC_PREFIX, uuid, NULL);
  now = g_date_time_new_now_utc ();
  stamp = g_date_time_format_iso8601 (now);
  note_text = g_strdup_printf ("{\"purpose\":\"Primero Sync connectivity check\",\"at\":\"%s\"}",
                               stamp);
  note = g_bytes_new_take (note_text, strlen (note_text));
  note_text = NULL;
  {
    g_autofree char *doc = database_path (database, "/");

    path = g_strconcat (doc, run->doc_path, NULL);
  }
  ps_diag_send_request (task, "PUT", path, note, "application/json", TRUE, on_note_written_cb);
}

void
ps_diag_check_database (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autofree char *id = NULL;
  g_autofree char *title = NULL;
  g_autofree char *path = NULL;
  const char *database;

  if (self->databases == NULL || self->databases[0] == NULL)
    {
      ps_diag_start_check (task, "databases", _("Record databases"));
      ps_diag_end_check (task, PS_DIAGNOSTIC_WARNING, _("No record databases are configured."),
                         _("Enter the record types or the database names in the server’s "
                           "settings."));
      return;
    }

  database = current_database (task);
  id = g_strconcat ("database:", database, NULL);
  /* TRANSLATORS: %s is a database name */
  title = g_strdup_printf (_("Database %s"), database);

  if (run->skip_reason != NULL || run->skip_db_reason != NULL)
    {
      ps_diag_skip_check (task, id, title,
                          run->skip_reason != NULL ? run->skip_reason : run->skip_db_reason);
      return;
    }

  ps_diag_start_check (task, id, title);
  path = database_path (database, NULL);
  ps_diag_send_request (task, "GET", path, NULL, NULL, TRUE, on_database_info_cb);
}

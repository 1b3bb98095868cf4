/* ps-url.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one place where URLs typed by people are parsed, checked and made
 * safe to show. People type passwords as they are, with '/', '?', '#' or
 * '@' in them, where RFC 3986 would end the authority: GLib would then
 * read a password as a port or a path, store it, or quote it in its
 * error. So the user information is taken to end at the last '@' after
 * the scheme: no URL this program uses has an '@' anywhere else (server
 * URLs have no query, CouchDB database names cannot hold one).
 */

#define G_LOG_DOMAIN "ps-url"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-host.h"
#include "ps-url.h"

G_DEFINE_QUARK (ps-url-error-quark, ps_url_error)

/* What follows "://", or %NULL. */
static const char *
find_authority (const char *text)
{
  const char *separator = strstr (text, "://");

  return separator != NULL ? separator + 3 : NULL;
}

static gboolean
is_escape (const char *p)
{
  return p[0] == '%' && g_ascii_isxdigit (p[1]) && g_ascii_isxdigit (p[2]);
}

/* Escapes what would end the user information early; what is already
 * escaped stays as it is.
 */
static void
append_escaped_userinfo (GString    *out,
                         const char *userinfo,
                         gsize       len)
{
  for (gsize i = 0; i < len; i++)
    {
      guchar c = userinfo[i];

      if (c <= 0x20 || c >= 0x7f || strchr ("/?#@[]\\\"<>^`{|}", c) != NULL ||
          (c == '%' && !is_escape (userinfo + i)))
        g_string_append_printf (out, "%%%02X", c);
      else
        g_string_append_c (out, c);
    }
}

static const char *
describe_parse_error (const GError *error)
{
  if (error->domain != G_URI_ERROR)
    return _("The address is not a valid URL");

  switch (error->code)
    {
    case G_URI_ERROR_BAD_SCHEME:
      return _("The address does not start with a valid scheme such as https://");
    case G_URI_ERROR_BAD_USER:
    case G_URI_ERROR_BAD_PASSWORD:
    case G_URI_ERROR_BAD_AUTH_PARAMS:
      return _("The user name or password in the address is not valid");
    case G_URI_ERROR_BAD_HOST:
      return _("The host name in the address is not valid");
    case G_URI_ERROR_BAD_PORT:
      return _("The port in the address is not a number from 1 to 65535");
    case G_URI_ERROR_BAD_PATH:
    case G_URI_ERROR_BAD_QUERY:
    case G_URI_ERROR_BAD_FRAGMENT:
      return _("The address contains characters that are not allowed in a URL");
    case G_URI_ERROR_FAILED:
    default:
      return _("The address is not a valid URL");
    }
}

/**
 * ps_url_has_userinfo:
 * @text: a URL as typed
 *
 * Returns: whether @text carries a user name or password
 */
gboolean
ps_url_has_userinfo (const char *text)
{
  const char *authority;

  g_return_val_if_fail (text != NULL, FALSE);

  authority = find_authority (text);
  return authority != NULL && strchr (authority, '@') != NULL;
}

/**
 * ps_url_parse:
 * @text: a URL as typed, perhaps with a user name and password
 * @error: return location for a #PsUrlError
 *
 * Parses @text with every part left escaped (%G_URI_FLAGS_ENCODED) and the
 * password apart from the user (%G_URI_FLAGS_HAS_PASSWORD). A password may
 * hold any character: see the top of this file. The error never quotes
 * @text, nor GLib's message, which does.
 *
 * Returns: (transfer full) (nullable): the URL, or %NULL
 */
GUri *
ps_url_parse (const char  *text,
              GError     **error)
{
  g_autoptr(GString) escaped = NULL;
  g_autoptr(GError) parse_error = NULL;
  const char *authority;
  const char *at;
  GUri *uri;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  authority = find_authority (text);
  if (authority == NULL)
    {
      g_set_error_literal (error, PS_URL_ERROR, PS_URL_ERROR_INVALID,
                           _("The address has no scheme; write it in full, starting with "
                             "https:// or http://"));
      return NULL;
    }

  escaped = g_string_new_len (text, authority - text);
  at = strrchr (authority, '@');
  if (at != NULL)
    {
      append_escaped_userinfo (escaped, authority, at - authority);
      g_string_append (escaped, at);
    }
  else
    {
      g_string_append (escaped, authority);
    }

  uri = g_uri_parse (escaped->str, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED, &parse_error);
  /* The escaped text holds the password: wipe it. */
  memset (escaped->str, 0, escaped->len);
  if (uri == NULL)
    {
      g_set_error_literal (error, PS_URL_ERROR, PS_URL_ERROR_INVALID,
                           describe_parse_error (parse_error));
      return NULL;
    }

  return uri;
}

/**
 * ps_url_normalize_server:
 * @text: a server URL as the user typed it
 * @normalized: (out) (optional): return location for the normalised URL
 * @is_insecure_http: (out) (optional): return location for whether traffic
 *   to this URL would cross the network unencrypted (http to a host other
 *   than this machine)
 * @error: return location for a #PsUrlError
 *
 * Checks that @text is an http or https URL with a host, and no user name,
 * password, query or fragment. The normalised form has a lowercase scheme
 * and host, no default port and no trailing slash, so the same server
 * always gets the same URL.
 *
 * Returns: %TRUE when @text is usable
 */
gboolean
ps_url_normalize_server (const char  *text,
                         char       **normalized,
                         gboolean    *is_insecure_http,
                         GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *trimmed = NULL;
  g_autofree char *host = NULL;
  g_autofree char *path = NULL;
  const char *scheme;
  gboolean is_http;
  gsize path_len;
  int port;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  trimmed = g_strstrip (g_strdup (text != NULL ? text : ""));
  if (*trimmed == '\0')
    {
      g_set_error_literal (error, PS_URL_ERROR, PS_URL_ERROR_INVALID,
                           _("Enter the URL of the server, such as https://example.org:5984"));
      return FALSE;
    }

  if (find_authority (trimmed) == NULL)
    {
      g_set_error_literal (error, PS_URL_ERROR, PS_URL_ERROR_INVALID,
                           _("The URL has no scheme: add https:// in front of it, "
                             "as in https://example.org:5984"));
      return FALSE;
    }

  /* Before parsing, so that nothing after can ever repeat a password. */
  if (ps_url_has_userinfo (trimmed))
    {
      g_set_error_literal (error, PS_URL_ERROR, PS_URL_ERROR_CREDENTIALS,
                           _("The URL must not contain a user name or password; "
                             "enter them in their own fields"));
      return FALSE;
    }

  uri = ps_url_parse (trimmed, error);
  if (uri == NULL)
    return FALSE;

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error_literal (error, PS_URL_ERROR, PS_URL_ERROR_INVALID,
                           _("Only http and https URLs are supported"));
      return FALSE;
    }

  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error_literal (error, PS_URL_ERROR, PS_URL_ERROR_INVALID,
                           _("The URL has no host"));
      return FALSE;
    }

  if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error_literal (error, PS_URL_ERROR, PS_URL_ERROR_INVALID,
                           _("The URL must not contain a query (?…) or a fragment (#…)"));
      return FALSE;
    }

  /* A path is allowed: CouchDB is often served under a prefix by a proxy. */
  path = g_strdup (g_uri_get_path (uri));
  path_len = strlen (path);
  while (path_len > 0 && path[path_len - 1] == '/')
    path[--path_len] = '\0';

  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  is_http = g_ascii_strcasecmp (scheme, "http") == 0;

  /* The default port is left out, so that both spellings are one server. */
  port = g_uri_get_port (uri);
  if ((is_http && port == 80) || (!is_http && port == 443))
    port = -1;

  if (normalized != NULL)
    *normalized = g_uri_join (G_URI_FLAGS_ENCODED, is_http ? "http" : "https", NULL, host,
                              port, path, NULL, NULL);

  if (is_insecure_http != NULL)
    *is_insecure_http = is_http && !ps_host_is_loopback (host);

  return TRUE;
}

/* For text that does not parse: everything up to the last '@' after the
 * scheme goes.
 */
static char *
drop_userinfo_by_hand (const char *text)
{
  const char *authority = find_authority (text);
  const char *start = authority != NULL ? authority : text;
  const char *at = strrchr (start, '@');

  if (at == NULL)
    return g_strdup (text);

  return g_strdup_printf ("%.*s%s", (int) (start - text), text, at + 1);
}

/**
 * ps_url_redact:
 * @text: a URL that may carry a password
 *
 * Returns: (transfer full): @text without its password, for display; the
 *   user name stays. Text that is not a valid URL loses whatever could be
 *   user information.
 */
char *
ps_url_redact (const char *text)
{
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  uri = ps_url_parse (text, NULL);
  if (uri != NULL)
    return g_uri_to_string_partial (uri, G_URI_HIDE_PASSWORD);

  return drop_userinfo_by_hand (text);
}

/**
 * ps_url_strip_credentials:
 * @text: a URL that may carry a user name and password
 *
 * Returns: (transfer full): @text without any user information
 */
char *
ps_url_strip_credentials (const char *text)
{
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  uri = ps_url_parse (text, NULL);
  if (uri != NULL)
    return g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO);

  return drop_userinfo_by_hand (text);
}

/* What older versions left in place of a password, fine to keep. */
#define REDACTED_PASSWORD "***"

/* The next URL in free text: its authority and what follows up to where
 * text around it would start again, and the last `@` in that span (the
 * end of any user information), or %NULL. One rule for finding and for
 * removing credentials, so that the two cannot drift apart.
 */
static const char *
next_url_span (const char  *p,
               gsize       *len,
               const char **at)
{
  const char *found = strstr (p, "://");

  if (found == NULL)
    return NULL;

  found += 3;
  *len = strcspn (found, "\"'<> \t\r\n");
  *at = g_strrstr_len (found, *len, "@");
  return found;
}

/**
 * ps_url_text_has_password:
 * @text: any text, which may hold URLs
 *
 * Looks for a URL with a password in @text, where the user information
 * ends at the last '@' of the URL, as in ps_url_parse(). A password shown
 * as `***` is not one.
 *
 * Returns: whether a URL in @text carries a password
 */
gboolean
ps_url_text_has_password (const char *text)
{
  const char *p = text;
  const char *at;
  gsize len;

  g_return_val_if_fail (text != NULL, FALSE);

  while ((p = next_url_span (p, &len, &at)) != NULL)
    {
      const char *colon = at != NULL ? memchr (p, ':', at - p) : NULL;

      if (colon != NULL && at > colon + 1 &&
          !((gsize) (at - colon - 1) == strlen (REDACTED_PASSWORD) &&
            strncmp (colon + 1, REDACTED_PASSWORD, strlen (REDACTED_PASSWORD)) == 0))
        return TRUE;
      p += len;
    }

  return FALSE;
}

/**
 * ps_url_redact_text:
 * @text: any text, which may hold URLs, such as another server's error
 *
 * Returns: (transfer full): @text with the user information of every URL
 *   in it removed, as ps_url_text_has_password() finds them
 */
char *
ps_url_redact_text (const char *text)
{
  GString *out;
  const char *p = text;
  const char *authority;
  const char *at;
  gsize len;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_sized_new (strlen (text));
  while ((authority = next_url_span (p, &len, &at)) != NULL)
    {
      if (at == NULL)
        {
          g_string_append_len (out, p, authority + len - p);
        }
      else
        {
          g_string_append_len (out, p, authority - p);
          g_string_append_len (out, at + 1, authority + len - (at + 1));
        }
      p = authority + len;
    }
  g_string_append (out, p);

  return g_string_free (out, FALSE);
}

/* ps-replicator-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * CouchDB's replicator explains a crashing replication with an Erlang
 * term, such as `{replication_auth_error, {session_request_forbidden,
 * "http://host:5984/_session", "admin"}}`. A site administrator needs the
 * same in a sentence: which server, and what to do about it.
 */

#define G_LOG_DOMAIN "ps-replicator-error"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-replicator-error.h"

/* The scheme, host and port of the first URL in @reason: which side failed. */
static char *
dup_first_host (const char *reason)
{
  const char *scheme = strstr (reason, "://");
  const char *start;
  gsize len;

  if (scheme == NULL)
    return NULL;

  start = scheme;
  while (start > reason && g_ascii_isalpha (start[-1]))
    start--;
  len = (scheme + 3 - start) + strcspn (scheme + 3, "/\"'<> \t\r\n,}");
  return g_strndup (start, len);
}

static gboolean
mentions (const char *reason,
          const char *word)
{
  return strstr (reason, word) != NULL;
}

/**
 * ps_replicator_error_one_line:
 * @text: a reason, which may span several indented lines as Erlang terms do
 *
 * Returns: (transfer full): @text on one line, runs of white space made one
 *   space: a reason is shown in a row, a notification or a CLI line
 */
char *
ps_replicator_error_one_line (const char *text)
{
  g_auto(GStrv) words = g_strsplit_set (text, " \t\r\n", -1);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0')
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, words[i]);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * ps_replicator_error_describe:
 * @reason: CouchDB's reason for a crashing or failed replication, with
 *   any credentials already removed
 *
 * Returns: (transfer full): @reason in a translated sentence when it is
 *   one CouchDB is known to give, else @reason on one line
 */
char *
ps_replicator_error_describe (const char *reason)
{
  g_autofree char *host = NULL;

  g_return_val_if_fail (reason != NULL, NULL);

  host = dup_first_host (reason);
  if (host == NULL)
    host = g_strdup (_("a server"));

  /* 403 on a login: CouchDB 3.4 and later lock a user out from an address
   * after repeated wrong passwords, for five minutes by default.
   */
  if (mentions (reason, "session_request_forbidden") || mentions (reason, "{forbidden,"))
    return g_strdup_printf (_("%s refused the login. CouchDB locks a user out for a few "
                              "minutes after several wrong passwords; if the password was "
                              "just corrected, the replication starts again once that time "
                              "is over."), host);
  if (mentions (reason, "unauthorized"))
    return g_strdup_printf (_("%s refused the user name or password. Edit the server and "
                              "enter the password again."), host);
  if (mentions (reason, "db_not_found") || mentions (reason, "could not open"))
    return g_strdup_printf (_("A database does not exist on %s. Check the database names "
                              "of the server, or create the database there."), host);
  if (mentions (reason, "econnrefused"))
    return g_strdup_printf (_("Nothing answers at %s: the server is stopped, or the address "
                              "or port is wrong."), host);
  if (mentions (reason, "nxdomain"))
    return g_strdup_printf (_("The name of %s is not known to this instance’s server."),
                            host);
  if (mentions (reason, "tls_alert") || mentions (reason, "certificate") ||
      mentions (reason, "bad_cert"))
    return g_strdup_printf (_("The secure connection to %s failed: its certificate was not "
                              "accepted by this instance’s server."), host);
  if (mentions (reason, "timeout") || mentions (reason, "req_timedout"))
    return g_strdup_printf (_("%s did not answer in time. The replication tries again."),
                            host);

  return ps_replicator_error_one_line (reason);
}

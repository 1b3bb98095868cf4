/* test-replicator-error.c: the reasons CouchDB 3.5's replicator gave for
 * crashing replications in the on-server tests, and what a site
 * administrator reads instead.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "ps-replicator-error.h"

#include <string.h>

static void
assert_contains (const char *text,
                 const char *part)
{
  if (strstr (text, part) == NULL)
    g_error ("“%s” does not contain “%s”", text, part);
}

/* After five wrong passwords CouchDB answers 403 even to the right one. */
static void
test_locked_out (void)
{
  g_autofree char *text = ps_replicator_error_describe (
    "{replication_auth_error,\n    {session_request_forbidden,"
    "\"http://127.0.0.1:25985/_session\",\"admin\"}}");

  assert_contains (text, "http://127.0.0.1:25985 refused the login");
  assert_contains (text, "few minutes");
  g_assert_null (strstr (text, "session_request"));
  g_assert_null (strstr (text, "_session"));
}

static void
test_wrong_password (void)
{
  g_autofree char *session = ps_replicator_error_describe (
    "{replication_auth_error,\n    {session_request_unauthorized,"
    "\"http://127.0.0.1:25985/_session\",\"admin\"}}");
  g_autofree char *database = ps_replicator_error_describe (
    "unauthorized: unauthorized to access or create database "
    "http://127.0.0.1:25985/primero_child_production/");

  assert_contains (session, "http://127.0.0.1:25985 refused the user name or password");
  assert_contains (database, "http://127.0.0.1:25985 refused the user name or password");
}

static void
test_other_known_reasons (void)
{
  g_autofree char *missing = ps_replicator_error_describe (
    "db_not_found: could not open https://office.example.org/primero_case_production/");
  g_autofree char *refused = ps_replicator_error_describe (
    "{conn_failed,{error,econnrefused}} http://127.0.0.1:1/x");
  g_autofree char *unknown_name = ps_replicator_error_describe (
    "{conn_failed,{error,nxdomain}}");

  assert_contains (missing, "A database does not exist on https://office.example.org.");
  assert_contains (refused, "Nothing answers at http://127.0.0.1:1:");
  /* No URL in the reason: the sentence still reads. */
  assert_contains (unknown_name, "The name of a server is not known");
}

static void
test_connection_reasons (void)
{
  g_autofree char *forbidden = ps_replicator_error_describe (
    "{forbidden,<<\"http://127.0.0.1:5984/db/\">>}");
  g_autofree char *certificate = ps_replicator_error_describe (
    "{tls_alert,{bad_certificate,\"https://office.example.org:6984/db/\"}}");
  g_autofree char *timeout = ps_replicator_error_describe (
    "{req_timedout, \"https://office.example.org:6984/db/_changes\"}");

  assert_contains (forbidden, "http://127.0.0.1:5984 refused the login");
  assert_contains (certificate, "https://office.example.org:6984 failed: its certificate");
  assert_contains (timeout, "https://office.example.org:6984 did not answer in time");
}

/* CouchDB may give no reason at all: nothing is made up. */
static void
test_empty_reason (void)
{
  g_autofree char *empty = ps_replicator_error_describe ("");
  g_autofree char *blank = ps_replicator_error_describe (" \n\t ");

  g_assert_cmpstr (empty, ==, "");
  g_assert_cmpstr (blank, ==, "");
}

/* An unknown reason is kept, on one line, for the administrator to search. */
static void
test_unknown_reason_kept (void)
{
  g_autofree char *text = ps_replicator_error_describe ("{badarg,\n   [{erlang,\n  foo}]}");

  g_assert_cmpstr (text, ==, "{badarg, [{erlang, foo}]}");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ps/replicator-error/locked-out", test_locked_out);
  g_test_add_func ("/ps/replicator-error/wrong-password", test_wrong_password);
  g_test_add_func ("/ps/replicator-error/other-known-reasons", test_other_known_reasons);
  g_test_add_func ("/ps/replicator-error/connection-reasons", test_connection_reasons);
  g_test_add_func ("/ps/replicator-error/empty-reason", test_empty_reason);
  g_test_add_func ("/ps/replicator-error/unknown-reason-kept", test_unknown_reason_kept);

  return g_test_run ();
}

/* test-host.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Which hosts never leave this machine: those need no network to be
 * reached and may speak plain HTTP without a warning. Every part of the
 * application asks ps_host_is_loopback(), so they all agree.
 */

#define G_LOG_DOMAIN "test-host"

#include "config.h"

#include "ps-host.h"

static void
test_loopback (void)
{
  const char *loopback[] = {
    "localhost", "LOCALHOST", "localhost.", "foo.localhost", "a.b.localhost",
    "127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1", "::ffff:127.1.2.3",
  };
  const char *remote[] = {
    "", "example.org", "localhost.example.org", "mylocalhost", "localhostx",
    "128.0.0.1", "10.0.0.1", "192.168.1.1", "126.255.255.255", "::2", "::",
    "::ffff:10.0.0.1", "0.0.0.0", "127.0.0.1.example.org", "fe80::1",
  };

  for (guint i = 0; i < G_N_ELEMENTS (loopback); i++)
    {
      g_test_message ("%s", loopback[i]);
      g_assert_true (ps_host_is_loopback (loopback[i]));
    }
  for (guint i = 0; i < G_N_ELEMENTS (remote); i++)
    {
      g_test_message ("%s", remote[i]);
      g_assert_false (ps_host_is_loopback (remote[i]));
    }
  g_assert_false (ps_host_is_loopback (NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/host/loopback", test_loopback);

  return g_test_run ();
}

/* ps-host.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-host"

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "ps-host.h"

/**
 * ps_host_is_loopback:
 * @host: (nullable): a host as #GUri gives it (IPv6 without brackets)
 *
 * A loopback host never leaves this machine: `localhost` and any name
 * under `.localhost` (RFC 6761), the whole of 127.0.0.0/8, `::1` and
 * IPv4-mapped loopback addresses. Such servers (a demo, tests, a tunnel)
 * need no network and may use plain HTTP without a warning.
 *
 * Returns: whether @host is a loopback host
 */
gboolean
ps_host_is_loopback (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autofree char *name = NULL;

  if (host == NULL || *host == '\0')
    return FALSE;

  /* A trailing dot names the same host. */
  name = g_ascii_strdown (host, -1);
  if (g_str_has_suffix (name, "."))
    name[strlen (name) - 1] = '\0';
  if (g_str_equal (name, "localhost") || g_str_has_suffix (name, ".localhost"))
    return TRUE;

  address = g_inet_address_new_from_string (name);
  if (address == NULL)
    return FALSE;
  if (g_inet_address_get_is_loopback (address))
    return TRUE;

  /* ::ffff:127.0.0.1 is 127.0.0.1 seen through IPv6. */
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    {
      const guint8 *bytes = g_inet_address_to_bytes (address);
      static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

      return memcmp (bytes, mapped, sizeof mapped) == 0 && bytes[12] == 127;
    }

  return FALSE;
}

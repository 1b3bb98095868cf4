/* ps-test-metered-monitor.c: a GIO module whose network monitor says the
 * connection may cost money, so that tests can see what the application
 * and the command-line tool do on a metered network.
 *
 * It is installed nowhere. A test loads it with
 * GIO_EXTRA_MODULES=<this build directory> and picks it with
 * GIO_USE_NETWORK_MONITOR=ps-test-metered, as a desktop's own monitor
 * would be picked: g_network_monitor_get_default() returns it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-test-metered-monitor"

#include <gio/gio.h>

#define PS_TEST_METERED_MONITOR_NAME     "ps-test-metered"
/* Above every monitor GLib ships, so it wins once loaded. */
#define PS_TEST_METERED_MONITOR_PRIORITY 1000

#define PS_TYPE_TEST_METERED_MONITOR (ps_test_metered_monitor_get_type ())

G_DECLARE_FINAL_TYPE (PsTestMeteredMonitor, ps_test_metered_monitor, PS, TEST_METERED_MONITOR,
                      GObject)

struct _PsTestMeteredMonitor
{
  GObject parent_instance;
};

enum {
  PROP_0,
  PROP_NETWORK_AVAILABLE,
  PROP_NETWORK_METERED,
  PROP_CONNECTIVITY,
};

static void initable_iface_init        (GInitableIface           *iface);
static void network_monitor_iface_init (GNetworkMonitorInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (PsTestMeteredMonitor, ps_test_metered_monitor, G_TYPE_OBJECT, 0,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE,
                                                               initable_iface_init)
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_NETWORK_MONITOR,
                                                               network_monitor_iface_init))


/*
 * GInitable interface implementation
 */

static gboolean
ps_test_metered_monitor_initable_init (GInitable     *initable,
                                       GCancellable  *cancellable,
                                       GError       **error)
{
  return TRUE;
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = ps_test_metered_monitor_initable_init;
}


/*
 * GNetworkMonitor interface implementation
 */

/* Every address is reachable: the peers the tests use are on loopback. */
static gboolean
ps_test_metered_monitor_can_reach (GNetworkMonitor     *monitor,
                                   GSocketConnectable  *connectable,
                                   GCancellable        *cancellable,
                                   GError             **error)
{
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static void
network_monitor_iface_init (GNetworkMonitorInterface *iface)
{
  /* GIO's default can_reach_async() calls this one. */
  iface->can_reach = ps_test_metered_monitor_can_reach;
}


/*
 * GObject overrides
 */

static void
ps_test_metered_monitor_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_NETWORK_AVAILABLE:
      g_value_set_boolean (value, TRUE);
      break;

    case PROP_NETWORK_METERED:
      g_value_set_boolean (value, TRUE);
      break;

    case PROP_CONNECTIVITY:
      g_value_set_enum (value, G_NETWORK_CONNECTIVITY_FULL);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_test_metered_monitor_class_init (PsTestMeteredMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = ps_test_metered_monitor_get_property;

  g_object_class_override_property (object_class, PROP_NETWORK_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, PROP_NETWORK_METERED, "network-metered");
  g_object_class_override_property (object_class, PROP_CONNECTIVITY, "connectivity");
}

static void
ps_test_metered_monitor_class_finalize (PsTestMeteredMonitorClass *klass)
{
}

static void
ps_test_metered_monitor_init (PsTestMeteredMonitor *self)
{
}


/*
 * GIO module
 */

void
g_io_module_load (GIOModule *module)
{
  ps_test_metered_monitor_register_type (G_TYPE_MODULE (module));
  g_io_extension_point_implement (G_NETWORK_MONITOR_EXTENSION_POINT_NAME,
                                  PS_TYPE_TEST_METERED_MONITOR,
                                  PS_TEST_METERED_MONITOR_NAME,
                                  PS_TEST_METERED_MONITOR_PRIORITY);
}

void
g_io_module_unload (GIOModule *module)
{
}

char **
g_io_module_query (void)
{
  const char * const extension_points[] = { G_NETWORK_MONITOR_EXTENSION_POINT_NAME, NULL };

  return g_strdupv ((char **) extension_points);
}

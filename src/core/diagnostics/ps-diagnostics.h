/* ps-diagnostics.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "ps-diagnostic-result.h"
#include "ps-server-access.h"

G_BEGIN_DECLS

#define PS_TYPE_DIAGNOSTICS  (ps_diagnostics_get_type ())
#define PS_DIAGNOSTICS_ERROR (ps_diagnostics_error_quark ())

G_DECLARE_FINAL_TYPE (PsDiagnostics, ps_diagnostics, PS, DIAGNOSTICS, GObject)

/**
 * PsDiagnosticsError:
 * @PS_DIAGNOSTICS_ERROR_BUSY: the checks are running already
 *
 * Errors from running the connectivity checks. Problems with the server
 * are not errors: they are the results of the checks.
 */
typedef enum
{
  PS_DIAGNOSTICS_ERROR_BUSY,
} PsDiagnosticsError;

#define PS_DIAGNOSTICS_DEFAULT_STEP_TIMEOUT_MS 10000

GQuark               ps_diagnostics_error_quark        (void);
PsDiagnostics       *ps_diagnostics_new                (SoupSession          *session,
                                                        const char           *url,
                                                        const char           *username,
                                                        const char           *password,
                                                        const char           *pinned_fingerprint,
                                                        const char * const   *databases,
                                                        gboolean              continuous);
PsDiagnostics       *ps_diagnostics_new_for_access     (PsServerAccess       *access);
const char          *ps_diagnostics_get_url            (PsDiagnostics        *self);
const char          *ps_diagnostics_get_username       (PsDiagnostics        *self);
guint                ps_diagnostics_get_step_timeout   (PsDiagnostics        *self);
void                 ps_diagnostics_set_step_timeout   (PsDiagnostics        *self,
                                                        guint                 milliseconds);
GListModel          *ps_diagnostics_get_results        (PsDiagnostics        *self);
PsDiagnosticResult  *ps_diagnostics_lookup_result      (PsDiagnostics        *self,
                                                        const char           *id);
PsDiagnosticVerdict  ps_diagnostics_get_verdict        (PsDiagnostics        *self);
gboolean             ps_diagnostics_get_running        (PsDiagnostics        *self);
void                 ps_diagnostics_run_async          (PsDiagnostics        *self,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
gboolean             ps_diagnostics_run_finish         (PsDiagnostics        *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
JsonNode            *ps_diagnostics_to_json            (PsDiagnostics        *self);
char                *ps_diagnostics_to_text            (PsDiagnostics        *self);

G_END_DECLS

/* ps-diagnostic-result.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define PS_TYPE_DIAGNOSTIC_RESULT  (ps_diagnostic_result_get_type ())
#define PS_TYPE_DIAGNOSTIC_VERDICT (ps_diagnostic_verdict_get_type ())

G_DECLARE_FINAL_TYPE (PsDiagnosticResult, ps_diagnostic_result, PS, DIAGNOSTIC_RESULT, GObject)

/**
 * PsDiagnosticVerdict:
 * @PS_DIAGNOSTIC_PENDING: the check has not started
 * @PS_DIAGNOSTIC_RUNNING: the check is running
 * @PS_DIAGNOSTIC_PASS: all is well
 * @PS_DIAGNOSTIC_WARNING: it works, but something needs attention
 * @PS_DIAGNOSTIC_FAIL: this stops a sync
 * @PS_DIAGNOSTIC_SKIPPED: not run, because an earlier check makes it meaningless
 *
 * The outcome of one connectivity check.
 */
typedef enum
{
  PS_DIAGNOSTIC_PENDING,
  PS_DIAGNOSTIC_RUNNING,
  PS_DIAGNOSTIC_PASS,
  PS_DIAGNOSTIC_WARNING,
  PS_DIAGNOSTIC_FAIL,
  PS_DIAGNOSTIC_SKIPPED,
} PsDiagnosticVerdict;

GType               ps_diagnostic_verdict_get_type               (void);
const char         *ps_diagnostic_verdict_to_string              (PsDiagnosticVerdict verdict);
const char         *ps_diagnostic_verdict_get_label              (PsDiagnosticVerdict verdict);
const char         *ps_diagnostic_verdict_get_mark               (PsDiagnosticVerdict verdict);
gboolean            ps_diagnostic_verdict_is_final               (PsDiagnosticVerdict verdict);

PsDiagnosticResult *ps_diagnostic_result_new                     (const char         *id,
                                                                  const char         *title);
const char         *ps_diagnostic_result_get_id                  (PsDiagnosticResult *self);
const char         *ps_diagnostic_result_get_title               (PsDiagnosticResult *self);
PsDiagnosticVerdict ps_diagnostic_result_get_verdict             (PsDiagnosticResult *self);
void                ps_diagnostic_result_set_verdict             (PsDiagnosticResult *self,
                                                                  PsDiagnosticVerdict verdict);
const char         *ps_diagnostic_result_get_explanation         (PsDiagnosticResult *self);
void                ps_diagnostic_result_set_explanation         (PsDiagnosticResult *self,
                                                                  const char         *explanation);
const char         *ps_diagnostic_result_get_advice              (PsDiagnosticResult *self);
void                ps_diagnostic_result_set_advice              (PsDiagnosticResult *self,
                                                                  const char         *advice);
guint               ps_diagnostic_result_get_duration_ms         (PsDiagnosticResult *self);
void                ps_diagnostic_result_set_duration_ms         (PsDiagnosticResult *self,
                                                                  guint               duration_ms);
const char         *ps_diagnostic_result_get_fingerprint         (PsDiagnosticResult *self);
void                ps_diagnostic_result_set_fingerprint         (PsDiagnosticResult *self,
                                                                  const char         *fingerprint);
gboolean            ps_diagnostic_result_get_fingerprint_matches (PsDiagnosticResult *self);
void                ps_diagnostic_result_set_fingerprint_matches (PsDiagnosticResult *self,
                                                                  gboolean            matches);
JsonNode           *ps_diagnostic_result_to_json                 (PsDiagnosticResult *self);

G_END_DECLS

/* ps-diagnostics-run.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starting, timing and ending one check, and the requests the checks send.
 */

#define G_LOG_DOMAIN "ps-diagnostics"

#include "config.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "ps-body-reader.h"
#include "ps-diagnostics-private.h"
#include "ps-json.h"

/* CouchDB's answers to these checks are small; more is not CouchDB. */
#define MAX_ANSWER_SIZE (8 * 1024 * 1024)

/* Text for people */

char *
ps_diag_format_seconds (gint64 seconds)
{
  seconds = ABS (seconds);

  if (seconds < 120)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d second", "%d seconds", seconds),
                            (int) seconds);
  if (seconds < 2 * 3600)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d minute", "%d minutes", seconds / 60),
                            (int) (seconds / 60));
  if (seconds < 2 * 86400)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d hour", "%d hours", seconds / 3600),
                            (int) (seconds / 3600));

  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d day", "%d days", seconds / 86400),
                          (int) (seconds / 86400));
}

char *
ps_diag_format_timeout (PsDiagnostics *self)
{
  if (self->step_timeout_ms % 1000 == 0)
    return ps_diag_format_seconds (self->step_timeout_ms / 1000);

  return g_strdup_printf (_("%.1f seconds"), self->step_timeout_ms / 1000.0);
}

/* AB:CD:… as browsers and openssl show it, for comparing by eye. */
char *
ps_diag_format_fingerprint (const char *hex)
{
  GString *text = g_string_new (NULL);

  for (gsize i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2)
    {
      if (i > 0)
        g_string_append_c (text, ':');
      g_string_append_c (text, g_ascii_toupper (hex[i]));
      g_string_append_c (text, g_ascii_toupper (hex[i + 1]));
    }

  return g_string_free (text, FALSE);
}

char *
ps_diag_format_date (GDateTime *date)
{
  if (date == NULL)
    return g_strdup ("?");

  return g_date_time_format (date, "%Y-%m-%d");
}

/* What is shown never carries a password, even one that a server echoed. */
static char *
scrub (PsDiagnostics *self,
       const char    *text)
{
  g_autoptr(GString) scrubbed = NULL;

  if (text == NULL)
    return NULL;

  scrubbed = g_string_new (text);
  if (self->password != NULL && strlen (self->password) >= 4)
    g_string_replace (scrubbed, self->password, "***", 0);

  return g_string_free (g_steal_pointer (&scrubbed), FALSE);
}

/* Running the checks */

void
ps_diag_disarm_deadline (Run *run)
{
  g_clear_handle_id (&run->deadline_id, g_source_remove);
}

static gboolean
on_deadline_cb (gpointer user_data)
{
  Run *run = user_data;

  run->deadline_id = 0;
  run->timed_out = TRUE;
  g_cancellable_cancel (run->op_cancellable);

  return G_SOURCE_REMOVE;
}

/* A fresh cancellable for the next network operation, cancelled by the
 * deadline or by the caller.
 */
GCancellable *
ps_diag_arm_deadline (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  ps_diag_disarm_deadline (run);
  g_clear_object (&run->op_cancellable);
  run->op_cancellable = g_cancellable_new ();
  run->timed_out = FALSE;
  run->deadline_id = g_timeout_add (self->step_timeout_ms, on_deadline_cb, run);

  if (run->cancellable != NULL && g_cancellable_is_cancelled (run->cancellable))
    g_cancellable_cancel (run->op_cancellable);

  return run->op_cancellable;
}

void
ps_diag_on_run_cancelled_cb (GCancellable *cancellable,
                             gpointer      user_data)
{
  Run *run = user_data;

  if (run->op_cancellable != NULL)
    g_cancellable_cancel (run->op_cancellable);
}

gboolean
ps_diag_is_timeout (Run          *run,
                    const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return TRUE;

  return run->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

void
ps_diag_start_check (GTask      *task,
                     const char *id,
                     const char *title)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  g_clear_object (&run->current);
  run->current = ps_diagnostic_result_new (id, title);
  run->check_started = g_get_monotonic_time ();
  run->phase = 0;
  ps_diagnostic_result_set_verdict (run->current, PS_DIAGNOSTIC_RUNNING);
  g_list_store_append (self->results, run->current);
}

static void
advance (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  if (run->step == STEP_DATABASES && self->databases != NULL &&
      self->databases[run->db_index] != NULL && self->databases[run->db_index + 1] != NULL)
    run->db_index++;
  else
    run->step++;

  ps_diag_run_step (task);
}

/* Records the verdict of the current check and goes on with the next. */
void
ps_diag_end_check (GTask               *task,
                   PsDiagnosticVerdict  verdict,
                   const char          *explanation,
                   const char          *advice)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autofree char *clean_explanation = scrub (self, explanation);
  g_autofree char *clean_advice = scrub (self, advice);
  PsDiagnosticResult *result = run->current;

  ps_diag_disarm_deadline (run);
  g_debug ("%s: %s: %s", ps_diagnostic_result_get_id (result),
           ps_diagnostic_verdict_to_string (verdict), clean_explanation);

  ps_diagnostic_result_set_duration_ms (result,
                                        (g_get_monotonic_time () - run->check_started) / 1000);
  ps_diagnostic_result_set_explanation (result, clean_explanation);
  ps_diagnostic_result_set_advice (result, clean_advice);
  /* The verdict goes last: a view that waits for it finds the rest set. */
  ps_diagnostic_result_set_verdict (result, verdict);

  advance (task);
}

void
ps_diag_skip_check (GTask      *task,
                    const char *id,
                    const char *title,
                    const char *reason)
{
  g_autofree char *explanation = NULL;

  ps_diag_start_check (task, id, title);
  /* TRANSLATORS: %s says why, e.g. "the server's name does not resolve" */
  explanation = g_strdup_printf (_("Not checked: %s."), reason);
  ps_diag_end_check (task, PS_DIAGNOSTIC_SKIPPED, explanation, NULL);
}

/* Returns TRUE, and ends the run, when the caller stopped it. */
gboolean
ps_diag_stop_if_cancelled (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  if (run->cancellable == NULL || !g_cancellable_is_cancelled (run->cancellable))
    return FALSE;

  ps_diag_disarm_deadline (run);
  if (run->current != NULL &&
      !ps_diagnostic_verdict_is_final (ps_diagnostic_result_get_verdict (run->current)))
    {
      ps_diagnostic_result_set_explanation (run->current, _("The check was stopped."));
      ps_diagnostic_result_set_verdict (run->current, PS_DIAGNOSTIC_SKIPPED);
    }

  self->running = FALSE;
  ps_diag_notify_state (self);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("The checks were stopped"));
  return TRUE;
}

void
ps_diag_set_skip_reason (Run        *run,
                         const char *reason)
{
  if (run->skip_reason == NULL)
    run->skip_reason = g_strdup (reason);
}

/* HTTP requests */

static gboolean
on_message_accept_certificate_cb (SoupMessage          *message,
                                  GTlsCertificate      *certificate,
                                  GTlsCertificateFlags  errors,
                                  gpointer              user_data)
{
  PsDiagnostics *self = user_data;
  g_autoptr(GByteArray) der = NULL;
  g_autofree char *fingerprint = NULL;

  if (self->pinned_fingerprint == NULL)
    return FALSE;

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return FALSE;

  fingerprint = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
  return g_str_equal (fingerprint, self->pinned_fingerprint);
}

static void
add_basic_auth (PsDiagnostics      *self,
                SoupMessageHeaders *headers)
{
  g_autofree char *pair = NULL;
  g_autofree char *encoded = NULL;
  g_autofree char *value = NULL;

  pair = g_strconcat (self->username, ":", self->password != NULL ? self->password : "", NULL);
  encoded = g_base64_encode ((const guchar *) pair, strlen (pair));
  value = g_strconcat ("Basic ", encoded, NULL);
  soup_message_headers_replace (headers, "Authorization", value);

  /* libsoup keeps its own copy of the header. */
  sodium_memzero (pair, strlen (pair));
  sodium_memzero (encoded, strlen (encoded));
  sodium_memzero (value, strlen (value));
}

/* Sends one request under the step deadline; @callback gets the task.
 * @path is escaped and starts with '/'.
 */
void
ps_diag_send_request (GTask               *task,
                      const char          *method,
                      const char          *path,
                      GBytes              *body,
                      const char          *content_type,
                      gboolean             with_credentials,
                      GAsyncReadyCallback  callback)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autofree char *url = g_strconcat (run->root, path, NULL);
  g_autoptr(SoupMessage) message = soup_message_new (method, url);
  SoupMessageHeaders *headers;
  GCancellable *cancellable;

  if (message == NULL)
    {
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, _("No request can be made with this address."),
                         _("Check the address of the server."));
      return;
    }

  headers = soup_message_get_request_headers (message);
  soup_message_headers_replace (headers, "Accept", "application/json");
  if (with_credentials && self->username != NULL)
    add_basic_auth (self, headers);
  if (body != NULL)
    soup_message_set_request_body_from_bytes (message, content_type, body);

  /* A redirection is a finding to report, not something to follow. */
  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);
  if (run->trusted_by_pin)
    g_signal_connect_object (message, "accept-certificate",
                             G_CALLBACK (on_message_accept_certificate_cb), self, 0);

  cancellable = ps_diag_arm_deadline (task);
  run->request_started = g_get_monotonic_time ();
  run->request_started_real = g_get_real_time ();
  ps_body_reader_send_async (self->session, message, MAX_ANSWER_SIZE, cancellable,
                             callback, g_object_ref (task));
}

GBytes *
ps_diag_finish_request (GTask         *task,
                        GAsyncResult  *result,
                        SoupMessage  **message,
                        GError       **error)
{
  Run *run = g_task_get_task_data (task);

  ps_diag_disarm_deadline (run);
  return ps_body_reader_send_finish (result, message, error);
}

JsonObject *
ps_diag_parse_object (GBytes *body)
{
  g_autoptr(GError) error = NULL;
  JsonObject *object = ps_json_parse_untrusted_object (body, MAX_ANSWER_SIZE, &error);

  if (object == NULL)
    g_debug ("The answer is not a JSON object: %s", error->message);
  return object;
}

gboolean
ps_diag_looks_like_html (SoupMessage *message,
                         GBytes      *body)
{
  const char *content_type;
  const char *data;
  gsize len = 0;
  gsize i = 0;

  content_type = soup_message_headers_get_content_type (soup_message_get_response_headers (message),
                                                        NULL);
  if (content_type != NULL &&
      (g_str_equal (content_type, "text/html") ||
       g_str_equal (content_type, "application/xhtml+xml")))
    return TRUE;

  if (body == NULL)
    return FALSE;

  data = g_bytes_get_data (body, &len);
  while (i < len && g_ascii_isspace (data[i]))
    i++;

  return i < len && data[i] == '<';
}

gboolean
ps_diag_body_contains (GBytes     *body,
                       const char *needle)
{
  g_autofree char *text = NULL;
  g_autofree char *lower = NULL;

  if (body == NULL)
    return FALSE;

  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  lower = g_ascii_strdown (text, -1);
  return strstr (lower, needle) != NULL;
}

/* The clock check reads the server's Date header of an early answer. */
void
ps_diag_note_server_date (GTask       *task,
                          SoupMessage *message)
{
  Run *run = g_task_get_task_data (task);
  const char *date_header;
  g_autoptr(GDateTime) date = NULL;
  gint64 now_real = g_get_real_time ();
  gint64 midpoint;

  date_header = soup_message_headers_get_one (soup_message_get_response_headers (message), "Date");
  if (date_header == NULL)
    return;

  date = soup_date_time_new_from_http_string (date_header);
  if (date == NULL)
    return;

  /* The server stamped its answer somewhere during the round trip. */
  midpoint = (run->request_started_real + now_real) / 2 / G_USEC_PER_SEC;
  run->clock_offset = g_date_time_to_unix (date) - midpoint;
  run->have_clock = TRUE;
}

/* One wording for a request that broke, used by the later checks. */
void
ps_diag_end_with_transport_error (GTask        *task,
                                  const GError *error)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autofree char *explanation = NULL;

  if (ps_diag_is_timeout (run, error))
    {
      g_autofree char *limit = ps_diag_format_timeout (self);

      explanation = g_strdup_printf (_("The server did not answer within %s."), limit);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("The server or a proxy in front of it is stuck or overloaded. Try again "
                           "in a moment; if it keeps happening, ask the server’s administrator "
                           "to check CouchDB."));
      return;
    }

  if (error->domain == G_TLS_ERROR)
    {
      explanation = g_strdup_printf (_("The secure connection was refused: %s."), error->message);
      ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                         _("The server’s certificate is not trusted; see the secure connection "
                           "check."));
      return;
    }

  explanation = g_strdup_printf (_("The connection broke before the server answered: %s."),
                                 error->message);
  ps_diag_end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                     _("The network or the server is unstable. Try again; if it keeps happening, "
                       "ask the server’s administrator."));
}

/* ps-diagnostics.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-diagnostics"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-diagnostics-private.h"
#include "ps-secrets.h"
#include "ps-server-access-private.h"
#include "ps-url.h"

G_DEFINE_FINAL_TYPE (PsDiagnostics, ps_diagnostics, G_TYPE_OBJECT)

G_DEFINE_QUARK (ps-diagnostics-error-quark, ps_diagnostics_error)

enum {
  PROP_0,
  PROP_SESSION,
  PROP_URL,
  PROP_USERNAME,
  PROP_PASSWORD,
  PROP_PINNED_FINGERPRINT,
  PROP_DATABASES,
  PROP_CONTINUOUS,
  PROP_STEP_TIMEOUT,
  PROP_RESULTS,
  PROP_VERDICT,
  PROP_RUNNING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
run_free (Run *run)
{
  g_clear_handle_id (&run->deadline_id, g_source_remove);
  if (run->cancelled_id != 0)
    g_signal_handler_disconnect (run->cancellable, run->cancelled_id);
  g_clear_object (&run->cancellable);
  g_clear_pointer (&run->display_url, g_free);
  g_clear_pointer (&run->root, g_free);
  g_clear_pointer (&run->host, g_free);
  g_clear_object (&run->current);
  g_clear_object (&run->op_cancellable);
  g_clear_pointer (&run->skip_reason, g_free);
  g_clear_pointer (&run->skip_db_reason, g_free);
  g_clear_object (&run->connection);
  g_clear_object (&run->peer_certificate);
  g_clear_pointer (&run->doc_path, g_free);
  g_clear_pointer (&run->doc_rev, g_free);
  g_clear_pointer (&run->login_explanation, g_free);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Run, run_free)

void
ps_diag_set_string (char       **field,
                    const char  *value)
{
  if (*field == value)
    return;

  g_free (*field);
  *field = g_strdup (value);
}

static void
ps_diagnostics_dispose (GObject *object)
{
  PsDiagnostics *self = (PsDiagnostics *)object;

  if (self->results != NULL)
    g_list_store_remove_all (self->results);

  G_OBJECT_CLASS (ps_diagnostics_parent_class)->dispose (object);
}

static void
ps_diagnostics_finalize (GObject *object)
{
  PsDiagnostics *self = (PsDiagnostics *)object;

  g_clear_object (&self->session);
  g_clear_object (&self->results);
  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->username, g_free);
  ps_secrets_wipe (&self->password);
  g_clear_pointer (&self->pinned_fingerprint, g_free);
  g_clear_pointer (&self->databases, g_strfreev);
  g_clear_pointer (&self->checked_at, g_date_time_unref);

  G_OBJECT_CLASS (ps_diagnostics_parent_class)->finalize (object);
}

static void
ps_diagnostics_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PsDiagnostics *self = PS_DIAGNOSTICS (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;
    case PROP_PINNED_FINGERPRINT:
      g_value_set_string (value, self->pinned_fingerprint);
      break;
    case PROP_DATABASES:
      g_value_set_boxed (value, self->databases);
      break;
    case PROP_CONTINUOUS:
      g_value_set_boolean (value, self->continuous);
      break;
    case PROP_STEP_TIMEOUT:
      g_value_set_uint (value, self->step_timeout_ms);
      break;
    case PROP_RESULTS:
      g_value_set_object (value, self->results);
      break;
    case PROP_VERDICT:
      g_value_set_enum (value, ps_diagnostics_get_verdict (self));
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_diagnostics_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  PsDiagnostics *self = PS_DIAGNOSTICS (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      self->session = g_value_dup_object (value);
      break;
    case PROP_URL:
      self->url = g_value_dup_string (value);
      break;
    case PROP_USERNAME:
      /* An empty user name is no user name. */
      if (g_value_get_string (value) != NULL && *g_value_get_string (value) != '\0')
        self->username = g_value_dup_string (value);
      break;
    case PROP_PASSWORD:
      ps_secrets_wipe (&self->password);
      self->password = ps_secrets_dup (g_value_get_string (value));
      break;
    case PROP_PINNED_FINGERPRINT:
      {
        const char *pin = g_value_get_string (value);

        g_clear_pointer (&self->pinned_fingerprint, g_free);
        if (pin != NULL && *pin != '\0')
          {
            self->pinned_fingerprint = ps_server_normalize_fingerprint (pin, NULL);
            if (self->pinned_fingerprint == NULL)
              self->pinned_fingerprint = g_ascii_strdown (pin, -1);
          }
      }
      break;
    case PROP_DATABASES:
      self->databases = g_value_dup_boxed (value);
      break;
    case PROP_CONTINUOUS:
      self->continuous = g_value_get_boolean (value);
      break;
    case PROP_STEP_TIMEOUT:
      ps_diagnostics_set_step_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_diagnostics_class_init (PsDiagnosticsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ps_diagnostics_dispose;
  object_class->finalize = ps_diagnostics_finalize;
  object_class->get_property = ps_diagnostics_get_property;
  object_class->set_property = ps_diagnostics_set_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL,
                         SOUP_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * PsDiagnostics:url:
   *
   * The server's address as the user entered it: checking it is the first
   * check.
   */
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_USERNAME] =
    g_param_spec_string ("username", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * PsDiagnostics:password:
   *
   * Write-only: the password never leaves this object.
   */
  properties[PROP_PASSWORD] =
    g_param_spec_string ("password", NULL, NULL,
                         NULL,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_PINNED_FINGERPRINT] =
    g_param_spec_string ("pinned-fingerprint", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_DATABASES] =
    g_param_spec_boxed ("databases", NULL, NULL,
                        G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_CONTINUOUS] =
    g_param_spec_boolean ("continuous", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * PsDiagnostics:step-timeout:
   *
   * How long, in milliseconds, one network operation (a lookup, a
   * connection, a handshake, a request) may take before it counts as
   * unanswered.
   */
  properties[PROP_STEP_TIMEOUT] =
    g_param_spec_uint ("step-timeout", NULL, NULL,
                       1, G_MAXUINT, PS_DIAGNOSTICS_DEFAULT_STEP_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PsDiagnostics:results:
   *
   * The #PsDiagnosticResult of each check, added as the check starts.
   */
  properties[PROP_RESULTS] =
    g_param_spec_object ("results", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * PsDiagnostics:verdict:
   *
   * The worst verdict of the checks that ran.
   */
  properties[PROP_VERDICT] =
    g_param_spec_enum ("verdict", NULL, NULL,
                       PS_TYPE_DIAGNOSTIC_VERDICT,
                       PS_DIAGNOSTIC_PENDING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ps_diagnostics_init (PsDiagnostics *self)
{
  self->results = g_list_store_new (PS_TYPE_DIAGNOSTIC_RESULT);
  self->step_timeout_ms = PS_DIAGNOSTICS_DEFAULT_STEP_TIMEOUT_MS;
}

/**
 * ps_diagnostics_new:
 * @session: the session HTTP requests go through
 * @url: the server's address, as entered
 * @username: (nullable): the CouchDB user
 * @password: (nullable): its password
 * @pinned_fingerprint: (nullable): the SHA-256 of a certificate the user trusts
 * @databases: (nullable): the record databases to check
 * @continuous: whether the server is synced continuously
 *
 * Returns: (transfer full): checks for one server, not started yet
 */
PsDiagnostics *
ps_diagnostics_new (SoupSession        *session,
                    const char         *url,
                    const char         *username,
                    const char         *password,
                    const char         *pinned_fingerprint,
                    const char * const *databases,
                    gboolean            continuous)
{
  g_return_val_if_fail (SOUP_IS_SESSION (session), NULL);
  g_return_val_if_fail (url != NULL, NULL);

  return g_object_new (PS_TYPE_DIAGNOSTICS,
                       "session", session,
                       "url", url,
                       "username", username,
                       "password", password,
                       "pinned-fingerprint", pinned_fingerprint,
                       "databases", databases,
                       "continuous", continuous,
                       NULL);
}

/**
 * ps_diagnostics_new_for_access:
 * @access: a configured server, with its password
 *
 * Returns: (transfer full): checks for the server of @access, not started
 *   yet
 */
PsDiagnostics *
ps_diagnostics_new_for_access (PsServerAccess *access)
{
  PsServer *server;
  g_auto(GStrv) databases = NULL;

  g_return_val_if_fail (PS_IS_SERVER_ACCESS (access), NULL);

  server = ps_server_access_get_server (access);
  databases = ps_server_dup_database_names (server);
  return ps_diagnostics_new (ps_server_access_get_session (access),
                             ps_server_get_url (server) != NULL ? ps_server_get_url (server) : "",
                             ps_server_get_username (server),
                             ps_server_access_get_password (access),
                             ps_server_get_pinned_fingerprint (server),
                             (const char * const *) databases,
                             ps_server_get_continuous (server));
}

const char *
ps_diagnostics_get_url (PsDiagnostics *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTICS (self), NULL);

  return self->url;
}

const char *
ps_diagnostics_get_username (PsDiagnostics *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTICS (self), NULL);

  return self->username;
}

guint
ps_diagnostics_get_step_timeout (PsDiagnostics *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTICS (self), 0);

  return self->step_timeout_ms;
}

/**
 * ps_diagnostics_set_step_timeout:
 * @self: a #PsDiagnostics
 * @milliseconds: how long one network operation may take
 */
void
ps_diagnostics_set_step_timeout (PsDiagnostics *self,
                                 guint          milliseconds)
{
  g_return_if_fail (PS_IS_DIAGNOSTICS (self));
  g_return_if_fail (milliseconds > 0);

  if (self->step_timeout_ms == milliseconds)
    return;

  self->step_timeout_ms = milliseconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP_TIMEOUT]);
}

/**
 * ps_diagnostics_get_results:
 * @self: a #PsDiagnostics
 *
 * Returns: (transfer none): a #GListModel of #PsDiagnosticResult
 */
GListModel *
ps_diagnostics_get_results (PsDiagnostics *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTICS (self), NULL);

  return G_LIST_MODEL (self->results);
}

/**
 * ps_diagnostics_lookup_result:
 * @self: a #PsDiagnostics
 * @id: the id of a check, such as `tls`
 *
 * Returns: (transfer none) (nullable): its result, if it ran
 */
PsDiagnosticResult *
ps_diagnostics_lookup_result (PsDiagnostics *self,
                              const char    *id)
{
  guint n;

  g_return_val_if_fail (PS_IS_DIAGNOSTICS (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->results));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PsDiagnosticResult) result = NULL;

      result = g_list_model_get_item (G_LIST_MODEL (self->results), i);

      if (g_str_equal (ps_diagnostic_result_get_id (result), id))
        return result;
    }

  return NULL;
}

static int
verdict_severity (PsDiagnosticVerdict verdict)
{
  switch (verdict)
    {
    case PS_DIAGNOSTIC_FAIL:
      return 3;
    case PS_DIAGNOSTIC_WARNING:
      return 2;
    case PS_DIAGNOSTIC_PASS:
      return 1;
    case PS_DIAGNOSTIC_PENDING:
    case PS_DIAGNOSTIC_RUNNING:
    case PS_DIAGNOSTIC_SKIPPED:
    default:
      return 0;
    }
}

/* The advice is a summary, not a check of its own. */
static PsDiagnosticVerdict
worst_verdict (PsDiagnostics *self,
               gboolean       include_advice)
{
  PsDiagnosticVerdict worst = PS_DIAGNOSTIC_PASS;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->results));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PsDiagnosticResult) result = NULL;

      result = g_list_model_get_item (G_LIST_MODEL (self->results), i);
      PsDiagnosticVerdict verdict = ps_diagnostic_result_get_verdict (result);

      if (!include_advice && g_str_equal (ps_diagnostic_result_get_id (result), "advice"))
        continue;
      if (verdict_severity (verdict) > verdict_severity (worst))
        worst = verdict;
    }

  return worst;
}

/**
 * ps_diagnostics_get_verdict:
 * @self: a #PsDiagnostics
 *
 * Returns: %PS_DIAGNOSTIC_PENDING before a run, %PS_DIAGNOSTIC_RUNNING
 *   during one, then the worst verdict of all checks
 */
PsDiagnosticVerdict
ps_diagnostics_get_verdict (PsDiagnostics *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTICS (self), PS_DIAGNOSTIC_PENDING);

  if (self->running)
    return PS_DIAGNOSTIC_RUNNING;
  if (g_list_model_get_n_items (G_LIST_MODEL (self->results)) == 0)
    return PS_DIAGNOSTIC_PENDING;

  return worst_verdict (self, TRUE);
}

gboolean
ps_diagnostics_get_running (PsDiagnostics *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTICS (self), FALSE);

  return self->running;
}

void
ps_diag_notify_state (PsDiagnostics *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERDICT]);
}


/* 10. Advice */

static void
check_advice (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  g_autoptr(PsDiagnosticResult) first_failure = NULL;
  g_autoptr(GString) advice = g_string_new (NULL);
  g_autofree char *explanation = NULL;
  PsDiagnosticVerdict worst = worst_verdict (self, FALSE);
  guint passed = 0, warnings = 0, failed = 0, skipped = 0;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->results));

  ps_diag_start_check (task, "advice", _("Advice"));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PsDiagnosticResult) result = NULL;

      result = g_list_model_get_item (G_LIST_MODEL (self->results), i);

      switch (ps_diagnostic_result_get_verdict (result))
        {
        case PS_DIAGNOSTIC_PASS:
          passed++;
          break;
        case PS_DIAGNOSTIC_WARNING:
          warnings++;
          break;
        case PS_DIAGNOSTIC_FAIL:
          failed++;
          if (first_failure == NULL)
            first_failure = g_object_ref (result);
          break;
        case PS_DIAGNOSTIC_SKIPPED:
          skipped++;
          break;
        case PS_DIAGNOSTIC_PENDING:
        case PS_DIAGNOSTIC_RUNNING:
        default:
          break;
        }
    }

  /* TRANSLATORS: counts of checks, e.g. "6 passed, 1 warning, 2 failed, 3 skipped" */
  explanation = g_strdup_printf (_("%u passed, %u with a warning, %u failed, %u skipped."),
                                 passed, warnings, failed, skipped);

  if (first_failure != NULL)
    {
      g_string_append_printf (advice, _("Start with “%s”: the checks after it may depend on it."),
                              ps_diagnostic_result_get_title (first_failure));
      if (self->continuous)
        {
          g_string_append_c (advice, ' ');
          g_string_append (advice, _("This server syncs continuously, which keeps retrying and "
                                     "hides the error: turn continuous sync off and run a "
                                     "one-shot sync to see the result at once; turn it back on "
                                     "once that works."));
        }
    }
  else if (warnings > 0)
    g_string_append (advice, _("A sync should work, but look at the warnings above."));
  else
    g_string_append (advice, _("Everything a sync needs works."));

  ps_diag_end_check (task, worst, explanation, advice->str);
}

static void
finish_run (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);

  self->running = FALSE;
  ps_diag_notify_state (self);
  g_task_return_boolean (task, TRUE);
}

/* The checks in order. Those with a title need a working connection: once
 * one failed, they are skipped under that title, with the reason.
 */
static const struct
{
  void        (*run) (GTask *task);
  const char   *id;
  const char   *title;
} steps[] = {
  [STEP_URL] = { ps_diag_check_url, NULL, NULL },
  [STEP_NAME] = { ps_diag_check_name, "name-resolution", N_("Name resolution") },
  [STEP_TCP] = { ps_diag_check_tcp, "tcp", N_("Connection") },
  [STEP_TLS] = { ps_diag_check_tls, "tls", N_("Secure connection (TLS)") },
  [STEP_HTTP] = { ps_diag_check_http, "http", N_("CouchDB server") },
  [STEP_CREDENTIALS] = { ps_diag_check_credentials, "credentials", N_("Login") },
  [STEP_DATABASES] = { ps_diag_check_database, NULL, NULL },
  [STEP_CLOCK] = { ps_diag_check_clock, "clock", N_("Clock") },
  [STEP_LATENCY] = { ps_diag_check_latency, "latency", N_("Speed") },
  [STEP_ADVICE] = { check_advice, NULL, NULL },
  [STEP_DONE] = { finish_run, NULL, NULL },
};

void
ps_diag_run_step (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  g_assert (run->step < G_N_ELEMENTS (steps));

  if (ps_diag_stop_if_cancelled (task))
    return;

  if (run->skip_reason != NULL && steps[run->step].id != NULL)
    ps_diag_skip_check (task, steps[run->step].id, _(steps[run->step].title), run->skip_reason);
  else
    steps[run->step].run (task);
}

/**
 * ps_diagnostics_run_async:
 * @self: a #PsDiagnostics
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when every check has a verdict
 * @user_data: data for @callback
 *
 * Runs the checks one after the other. Each one appears in
 * ps_diagnostics_get_results() as it starts and gets its verdict when it
 * ends; a new run replaces the results of the previous one.
 */
void
ps_diagnostics_run_async (PsDiagnostics       *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(Run) run = NULL;

  g_return_if_fail (PS_IS_DIAGNOSTICS (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ps_diagnostics_run_async);

  if (self->running)
    {
      g_task_return_new_error (task, PS_DIAGNOSTICS_ERROR, PS_DIAGNOSTICS_ERROR_BUSY,
                               _("The checks are running already"));
      return;
    }

  run = g_new0 (Run, 1);
  run->step = STEP_URL;
  run->display_url = ps_url_redact (self->url);
  if (cancellable != NULL)
    {
      run->cancellable = g_object_ref (cancellable);
      /* A plain handler: g_cancellable_disconnect() would deadlock when
       * the run ends inside the emission.
       */
      run->cancelled_id = g_signal_connect (cancellable, "cancelled",
                                            G_CALLBACK (ps_diag_on_run_cancelled_cb), run);
    }
  g_task_set_task_data (task, g_steal_pointer (&run), (GDestroyNotify) run_free);

  g_list_store_remove_all (self->results);
  g_clear_pointer (&self->checked_at, g_date_time_unref);
  self->checked_at = g_date_time_new_now_utc ();
  self->running = TRUE;
  ps_diag_notify_state (self);

  ps_diag_run_step (task);
}

/**
 * ps_diagnostics_run_finish:
 * @self: a #PsDiagnostics
 * @result: the result
 * @error: return location for an error
 *
 * Returns: %TRUE when every check ran; the verdicts are in the results.
 *   %FALSE when the run was cancelled or was running already.
 */
gboolean
ps_diagnostics_run_finish (PsDiagnostics  *self,
                           GAsyncResult   *result,
                           GError        **error)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTICS (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ps_diagnostics_run_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Reports */

static char *
dup_display_url (PsDiagnostics *self)
{
  return ps_url_redact (self->url != NULL ? self->url : "");
}

/**
 * ps_diagnostics_to_json:
 * @self: a #PsDiagnostics
 *
 * Returns: (transfer full): the report for scripts; it never contains the
 *   password
 */
JsonNode *
ps_diagnostics_to_json (PsDiagnostics *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *url = NULL;
  PsDiagnosticVerdict verdict;
  guint n;

  g_return_val_if_fail (PS_IS_DIAGNOSTICS (self), NULL);

  url = dup_display_url (self);
  verdict = ps_diagnostics_get_verdict (self);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->results));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, url);
  json_builder_set_member_name (builder, "username");
  if (self->username != NULL)
    json_builder_add_string_value (builder, self->username);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "continuous");
  json_builder_add_boolean_value (builder, self->continuous);
  if (self->checked_at != NULL)
    {
      g_autofree char *when = g_date_time_format_iso8601 (self->checked_at);

      json_builder_set_member_name (builder, "checked_at");
      json_builder_add_string_value (builder, when);
    }
  json_builder_set_member_name (builder, "verdict");
  json_builder_add_string_value (builder, ps_diagnostic_verdict_to_string (verdict));
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, verdict == PS_DIAGNOSTIC_PASS ||
                                           verdict == PS_DIAGNOSTIC_WARNING);
  json_builder_set_member_name (builder, "checks");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PsDiagnosticResult) result = NULL;

      result = g_list_model_get_item (G_LIST_MODEL (self->results), i);

      json_builder_add_value (builder, ps_diagnostic_result_to_json (result));
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/**
 * ps_diagnostics_to_text:
 * @self: a #PsDiagnostics
 *
 * Returns: (transfer full): a plain-text report to paste into a message
 *   to an administrator; it never contains the password
 */
char *
ps_diagnostics_to_text (PsDiagnostics *self)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *url = NULL;
  guint n;

  g_return_val_if_fail (PS_IS_DIAGNOSTICS (self), NULL);

  url = dup_display_url (self);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->results));

  g_string_append_printf (text, _("Primero Sync connectivity report\n"));
  g_string_append_printf (text, _("Server: %s\n"), url);
  g_string_append_printf (text, _("User: %s\n"),
                          self->username != NULL ? self->username : _("none"));
  g_string_append_printf (text, _("Continuous sync: %s\n"), self->continuous ? _("yes") : _("no"));
  if (self->checked_at != NULL)
    {
      g_autofree char *when = g_date_time_format (self->checked_at, "%Y-%m-%d %H:%M:%S UTC");

      g_string_append_printf (text, _("Checked: %s\n"), when);
    }
  g_string_append_printf (text, _("Result: %s\n\n"),
                          ps_diagnostic_verdict_get_label (ps_diagnostics_get_verdict (self)));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PsDiagnosticResult) result = NULL;

      result = g_list_model_get_item (G_LIST_MODEL (self->results), i);
      PsDiagnosticVerdict verdict = ps_diagnostic_result_get_verdict (result);
      const char *explanation = ps_diagnostic_result_get_explanation (result);
      const char *advice = ps_diagnostic_result_get_advice (result);

      /* TRANSLATORS: mark, check title, verdict, duration, e.g. "✔ Login (passed, 12 ms)" */
      g_string_append_printf (text, _("%s %s (%s, %u ms)\n"),
                              ps_diagnostic_verdict_get_mark (verdict),
                              ps_diagnostic_result_get_title (result),
                              ps_diagnostic_verdict_get_label (verdict),
                              ps_diagnostic_result_get_duration_ms (result));
      if (explanation != NULL)
        g_string_append_printf (text, "    %s\n", explanation);
      if (advice != NULL)
        g_string_append_printf (text, _("    What to do: %s\n"), advice);
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* ps-diagnostics.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-diagnostics"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ps-couch-database.h"
#include "ps-diagnostics.h"

/* Each check goes one layer up the stack; a failure in a layer makes the
 * layers above it meaningless, and they are skipped with that reason.
 */
typedef enum
{
  STEP_URL,
  STEP_NAME,
  STEP_TCP,
  STEP_TLS,
  STEP_HTTP,
  STEP_CREDENTIALS,
  STEP_DATABASES,
  STEP_CLOCK,
  STEP_LATENCY,
  STEP_ADVICE,
  STEP_DONE,
} Step;

#define LATENCY_SAMPLES          5
#define SLOW_LATENCY_MS          1000
#define CLOCK_WARNING_SECONDS    60
#define CLOCK_FAILURE_SECONDS    600
#define THROUGHPUT_MIN_BYTES     4096
#define DIAGNOSTIC_DOC_PREFIX    "_local/primero-sync-diagnostics-"

struct _PsDiagnostics
{
  GObject       parent_instance;

  SoupSession  *session;
  char         *url;
  char         *username;
  char         *password;
  char         *pinned_fingerprint;
  char        **databases;
  gboolean      continuous;
  guint         step_timeout_ms;

  GListStore   *results;
  gboolean      running;
  GDateTime    *checked_at;
};

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

typedef struct
{
  Step                  step;
  GCancellable         *cancellable;    /* the caller's; may be NULL */
  gulong                cancelled_id;

  /* The address, as the URL check understood it */
  char                 *display_url;
  char                 *root;           /* scheme://host:port/prefix, no trailing slash */
  char                 *host;
  guint16               port;
  gboolean              https;

  /* The check in progress */
  PsDiagnosticResult   *current;
  gint64                check_started;
  guint                 phase;

  /* One network operation at a time, each with its own deadline */
  GCancellable         *op_cancellable;
  guint                 deadline_id;
  gboolean              timed_out;
  gint64                request_started;
  gint64                request_started_real;

  char                 *skip_reason;     /* why the network checks are meaningless */
  char                 *skip_db_reason;  /* why the database checks are */

  GSocketConnection    *connection;
  GTlsCertificate      *peer_certificate;
  GTlsCertificateFlags  peer_errors;
  gboolean              trusted_by_pin;

  gboolean              send_credentials;
  char                 *login_explanation;
  gboolean              have_clock;
  gint64                clock_offset;    /* seconds the server is ahead */

  guint                 db_index;
  char                 *doc_path;
  char                 *doc_rev;
  gint64                doc_count;

  gint64                samples[LATENCY_SAMPLES];
  guint                 n_samples;
} Run;

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

static void run_step (GTask *task);

static void
set_string (char       **field,
            const char  *value)
{
  if (*field == value)
    return;

  g_free (*field);
  *field = g_strdup (value);
}

static void
wipe_string (char **str)
{
  if (*str != NULL)
    memset (*str, 0, strlen (*str));
  g_clear_pointer (str, g_free);
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
  wipe_string (&self->password);
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
      wipe_string (&self->password);
      self->password = g_value_dup_string (value);
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
 * ps_diagnostics_new_for_server:
 * @server: a configured server
 * @session: the session HTTP requests go through
 * @password: (nullable): the password from the keyring
 *
 * Returns: (transfer full): checks for @server, not started yet
 */
PsDiagnostics *
ps_diagnostics_new_for_server (PsServer    *server,
                               SoupSession *session,
                               const char  *password)
{
  g_auto(GStrv) databases = NULL;

  g_return_val_if_fail (PS_IS_SERVER (server), NULL);
  g_return_val_if_fail (SOUP_IS_SESSION (session), NULL);

  databases = ps_server_dup_database_names (server);
  return ps_diagnostics_new (session,
                             ps_server_get_url (server) != NULL ? ps_server_get_url (server) : "",
                             ps_server_get_username (server),
                             password,
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

/* Text for people */

static char *
format_seconds (gint64 seconds)
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

static char *
format_timeout (PsDiagnostics *self)
{
  if (self->step_timeout_ms % 1000 == 0)
    return format_seconds (self->step_timeout_ms / 1000);

  return g_strdup_printf (_("%.1f seconds"), self->step_timeout_ms / 1000.0);
}

/* AB:CD:… as browsers and openssl show it, for comparing by eye. */
static char *
format_fingerprint (const char *hex)
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

static char *
format_date (GDateTime *date)
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

static void
notify_state (PsDiagnostics *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERDICT]);
}

static void
disarm_deadline (Run *run)
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
static GCancellable *
arm_deadline (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  disarm_deadline (run);
  g_clear_object (&run->op_cancellable);
  run->op_cancellable = g_cancellable_new ();
  run->timed_out = FALSE;
  run->deadline_id = g_timeout_add (self->step_timeout_ms, on_deadline_cb, run);

  if (run->cancellable != NULL && g_cancellable_is_cancelled (run->cancellable))
    g_cancellable_cancel (run->op_cancellable);

  return run->op_cancellable;
}

static void
on_run_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  Run *run = user_data;

  if (run->op_cancellable != NULL)
    g_cancellable_cancel (run->op_cancellable);
}

static gboolean
is_timeout (Run          *run,
            const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return TRUE;

  return run->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
start_check (GTask      *task,
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

  run_step (task);
}

/* Records the verdict of the current check and goes on with the next. */
static void
end_check (GTask               *task,
           PsDiagnosticVerdict  verdict,
           const char          *explanation,
           const char          *advice)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autofree char *clean_explanation = scrub (self, explanation);
  g_autofree char *clean_advice = scrub (self, advice);
  PsDiagnosticResult *result = run->current;

  disarm_deadline (run);
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

static void
skip_check (GTask      *task,
            const char *id,
            const char *title,
            const char *reason)
{
  g_autofree char *explanation = NULL;

  start_check (task, id, title);
  /* TRANSLATORS: %s says why, e.g. "the server's name does not resolve" */
  explanation = g_strdup_printf (_("Not checked: %s."), reason);
  end_check (task, PS_DIAGNOSTIC_SKIPPED, explanation, NULL);
}

/* Returns TRUE, and ends the run, when the caller stopped it. */
static gboolean
stop_if_cancelled (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  if (run->cancellable == NULL || !g_cancellable_is_cancelled (run->cancellable))
    return FALSE;

  disarm_deadline (run);
  if (run->current != NULL &&
      !ps_diagnostic_verdict_is_final (ps_diagnostic_result_get_verdict (run->current)))
    {
      ps_diagnostic_result_set_explanation (run->current, _("The check was stopped."));
      ps_diagnostic_result_set_verdict (run->current, PS_DIAGNOSTIC_SKIPPED);
    }

  self->running = FALSE;
  notify_state (self);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("The checks were stopped"));
  return TRUE;
}

static void
set_skip_reason (Run        *run,
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

  memset (pair, 0, strlen (pair));
  memset (encoded, 0, strlen (encoded));
  memset (value, 0, strlen (value));
}

/* Sends one request under the step deadline; @callback gets the task.
 * @path is escaped and starts with '/'.
 */
static void
send_request (GTask               *task,
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
      end_check (task, PS_DIAGNOSTIC_FAIL, _("No request can be made with this address."),
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

  cancellable = arm_deadline (task);
  run->request_started = g_get_monotonic_time ();
  run->request_started_real = g_get_real_time ();
  soup_session_send_and_read_async (self->session, message, G_PRIORITY_DEFAULT, cancellable,
                                    callback, g_object_ref (task));
}

static GBytes *
finish_request (GTask         *task,
                GAsyncResult  *result,
                SoupMessage  **message,
                GError       **error)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  disarm_deadline (run);
  *message = soup_session_get_async_result_message (self->session, result);
  return soup_session_send_and_read_finish (self->session, result, error);
}

static JsonObject *
parse_object (GBytes *body)
{
  g_autoptr(JsonParser) parser = NULL;
  gsize len = 0;
  const char *data;
  JsonNode *root;

  if (body == NULL)
    return NULL;

  data = g_bytes_get_data (body, &len);
  if (data == NULL || len == 0)
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, len, NULL))
    return NULL;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  return json_object_ref (json_node_get_object (root));
}

static gboolean
looks_like_html (SoupMessage *message,
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

static gboolean
body_contains (GBytes     *body,
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
static void
note_server_date (GTask       *task,
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
static void
end_with_transport_error (GTask        *task,
                          const GError *error)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autofree char *explanation = NULL;

  if (is_timeout (run, error))
    {
      g_autofree char *limit = format_timeout (self);

      explanation = g_strdup_printf (_("The server did not answer within %s."), limit);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("The server or a proxy in front of it is stuck or overloaded. Try again in "
                   "a moment; if it keeps happening, ask the server’s administrator to check "
                   "CouchDB."));
      return;
    }

  if (error->domain == G_TLS_ERROR)
    {
      explanation = g_strdup_printf (_("The secure connection was refused: %s."), error->message);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("The server’s certificate is not trusted; see the secure connection check."));
      return;
    }

  explanation = g_strdup_printf (_("The connection broke before the server answered: %s."),
                                 error->message);
  end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
             _("The network or the server is unstable. Try again; if it keeps happening, ask "
               "the server’s administrator."));
}

/* 1. The address */

static gboolean
host_is_loopback (const char *host)
{
  return g_ascii_strcasecmp (host, "localhost") == 0 || g_str_has_prefix (host, "127.") ||
         g_str_equal (host, "::1");
}

static void
check_url (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *trimmed = g_strstrip (g_strdup (self->url));
  g_autofree char *explanation = NULL;
  g_autofree char *path = NULL;
  const char *scheme;
  gsize path_len;
  int port;

  start_check (task, "url", _("Address"));
  set_skip_reason (run, _("the address is not usable"));

  if (*trimmed == '\0')
    {
      end_check (task, PS_DIAGNOSTIC_FAIL, _("No address was given."),
                 _("Enter the address of the server’s CouchDB, such as "
                   "https://example.org:6984."));
      return;
    }

  if (strstr (trimmed, "://") == NULL)
    {
      explanation = g_strdup_printf (_("“%s” does not say how to connect: it has no "
                                       "https:// or http:// in front."), run->display_url);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Write the address in full, starting with https:// (or http:// for a "
                   "server without encryption), as in https://example.org:6984."));
      return;
    }

  uri = g_uri_parse (trimmed, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED, &error);
  if (uri == NULL)
    {
      explanation = g_strdup_printf (_("“%s” is not a valid address."), run->display_url);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Check the address for typing mistakes; it looks like "
                   "https://example.org:6984, with an optional port after a colon."));
      return;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      explanation = g_strdup_printf (_("The address starts with “%s://”; CouchDB speaks https "
                                       "or http."), scheme);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Start the address with https:// (or http:// for a server without "
                   "encryption)."));
      return;
    }

  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      end_check (task, PS_DIAGNOSTIC_FAIL, _("The address names no server."),
                 _("Put the server’s name or IP address after https://, as in "
                   "https://example.org:6984."));
      return;
    }

  if (g_uri_get_user (uri) != NULL || g_uri_get_password (uri) != NULL)
    {
      end_check (task, PS_DIAGNOSTIC_FAIL,
                 _("The address contains a user name or password."),
                 _("Remove them from the address and enter them in their own fields: "
                   "passwords belong in the keyring, not in addresses."));
      return;
    }

  if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      end_check (task, PS_DIAGNOSTIC_FAIL,
                 _("The address has a part after “?” or “#”, which CouchDB does not use."),
                 _("Remove everything from the “?” or “#” on."));
      return;
    }

  run->https = g_ascii_strcasecmp (scheme, "https") == 0;
  run->host = g_strdup (g_uri_get_host (uri));
  port = g_uri_get_port (uri);
  if (port <= 0)
    port = run->https ? 443 : 80;
  run->port = port;

  path = g_strdup (g_uri_get_path (uri));
  path_len = strlen (path);
  while (path_len > 0 && path[path_len - 1] == '/')
    path[--path_len] = '\0';
  run->root = g_uri_join (G_URI_FLAGS_ENCODED, run->https ? "https" : "http", NULL,
                          run->host, g_uri_get_port (uri), path, NULL, NULL);

  g_clear_pointer (&run->skip_reason, g_free);

  if (!run->https && !host_is_loopback (run->host))
    {
      explanation = g_strdup_printf (_("Server %s, port %u, over http: passwords and records "
                                       "would cross the network without encryption."),
                                     run->host, run->port);
      end_check (task, PS_DIAGNOSTIC_WARNING, explanation,
                 _("Use https if the server offers it (CouchDB’s usual https port is 6984). "
                   "Use http only inside a network you trust."));
      return;
    }

  if (!run->https)
    explanation = g_strdup_printf (_("Server %s, port %u, over http (the server is on this "
                                     "computer, so nothing crosses the network)."),
                                   run->host, run->port);
  else
    explanation = g_strdup_printf (_("Server %s, port %u, over https."), run->host, run->port);

  end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
}

/* 2. Name resolution */

static void
on_name_resolved_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *explanation = NULL;
  GList *addresses;

  disarm_deadline (run);
  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (object), result, &error);
  if (stop_if_cancelled (task))
    {
      g_resolver_free_addresses (addresses);
      return;
    }

  if (addresses == NULL)
    {
      set_skip_reason (run, _("the server’s name does not resolve"));

      if (is_timeout (run, error))
        {
          g_autofree char *limit = format_timeout (self);

          explanation = g_strdup_printf (_("Looking up “%s” took longer than %s."),
                                         run->host, limit);
          end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                     _("The name servers of this network do not answer. Check that this "
                       "computer is connected (open any web site), then try again."));
        }
      else if (g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE))
        {
          explanation = g_strdup_printf (_("“%s” could not be looked up just now (%s)."),
                                         run->host, error->message);
          end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                     _("Check that this computer is connected to the network (open any web "
                       "site), then try again."));
        }
      else
        {
          explanation = g_strdup_printf (_("The name “%s” does not resolve: no address is "
                                           "known for it."), run->host);
          end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                     _("Check the spelling of the server’s address. If it is right, check "
                       "that this computer is on the network and, for a server on a private "
                       "network, that its VPN is connected."));
        }
      return;
    }

  {
    g_autoptr(GString) list = g_string_new (NULL);
    guint shown = 0;

    for (GList *l = addresses; l != NULL && shown < 4; l = l->next, shown++)
      {
        g_autofree char *text = g_inet_address_to_string (l->data);

        if (list->len > 0)
          g_string_append (list, ", ");
        g_string_append (list, text);
      }
    if (g_list_length (addresses) > shown)
      g_string_append (list, ", …");

    explanation = g_strdup_printf (_("“%s” resolves to %s."), run->host, list->str);
  }
  g_resolver_free_addresses (addresses);

  end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
}

static void
check_name (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  g_autoptr(GResolver) resolver = NULL;
  g_autofree char *explanation = NULL;

  start_check (task, "name-resolution", _("Name resolution"));

  if (g_hostname_is_ip_address (run->host))
    {
      explanation = g_strdup_printf (_("%s is an IP address: there is no name to look up."),
                                     run->host);
      end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  resolver = g_resolver_get_default ();
  g_resolver_lookup_by_name_async (resolver, run->host, arm_deadline (task),
                                   on_name_resolved_cb, g_object_ref (task));
}

/* 3. TCP */

static void
on_connected_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *explanation = NULL;
  GSocketConnection *connection;

  disarm_deadline (run);
  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);
  if (stop_if_cancelled (task))
    {
      g_clear_object (&connection);
      return;
    }

  if (connection == NULL)
    {
      set_skip_reason (run, _("no connection could be made"));

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        {
          explanation = g_strdup_printf (_("%s refused the connection on port %u: nothing "
                                           "listens there."), run->host, run->port);
          end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                     _("Check the port in the address (CouchDB usually listens on 5984, or "
                       "6984 for https) and ask the server’s administrator whether CouchDB is "
                       "running; a firewall can also refuse the port."));
        }
      else if (is_timeout (run, error))
        {
          g_autofree char *limit = format_timeout (self);

          explanation = g_strdup_printf (_("%s did not accept a connection on port %u within "
                                           "%s."), run->host, run->port, limit);
          end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                     _("A firewall is probably dropping the traffic, or the server is off. "
                       "Check the port, and ask the server’s administrator whether this "
                       "network may reach it."));
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
               g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
        {
          explanation = g_strdup_printf (_("%s cannot be reached from this network (%s)."),
                                         run->host, error->message);
          end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                     _("Check this computer’s network connection; for a server on a "
                       "private network, connect its VPN first."));
        }
      else
        {
          explanation = g_strdup_printf (_("The connection to %s on port %u failed: %s."),
                                         run->host, run->port, error->message);
          end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                     _("Check this computer’s network connection and the address."));
        }
      return;
    }

  run->connection = connection;
  {
    g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
    g_autofree char *address = NULL;

    if (G_IS_INET_SOCKET_ADDRESS (remote))
      {
        GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (remote);

        address = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
      }

    if (address != NULL && !g_str_equal (address, run->host))
      explanation = g_strdup_printf (_("%s (%s) accepts connections on port %u."),
                                     run->host, address, run->port);
    else
      explanation = g_strdup_printf (_("%s accepts connections on port %u."),
                                     run->host, run->port);
  }

  end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
}

static void
check_tcp (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) address = g_network_address_new (run->host, run->port);
  g_autofree char *title = NULL;

  title = g_strdup_printf (_("Connection to port %u"), run->port);
  start_check (task, "tcp", title);
  g_socket_client_connect_async (client, address, arm_deadline (task),
                                 on_connected_cb, g_object_ref (task));
}

/* 4. TLS */

static gboolean
on_tls_accept_certificate_cb (GTlsConnection       *connection,
                              GTlsCertificate      *certificate,
                              GTlsCertificateFlags  errors,
                              gpointer              user_data)
{
  Run *run = user_data;

  /* Accepted here only to look at it; the verdict comes after. */
  g_set_object (&run->peer_certificate, certificate);
  run->peer_errors = errors;
  return TRUE;
}

static char *
describe_certificate_errors (Run                  *run,
                             GTlsCertificateFlags  errors)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) text = g_string_new (NULL);

  if (errors & G_TLS_CERTIFICATE_UNKNOWN_CA)
    g_ptr_array_add (problems, g_strdup (_("it is not signed by an authority this computer "
                                           "trusts (it may be self-signed)")));
  if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    {
      g_autofree char *subject = g_tls_certificate_get_subject_name (run->peer_certificate);

      if (subject != NULL)
        g_ptr_array_add (problems, g_strdup_printf (_("it was issued for another name (%s), "
                                                      "not for %s"), subject, run->host));
      else
        g_ptr_array_add (problems, g_strdup_printf (_("it was issued for another name, not "
                                                      "for %s"), run->host));
    }
  if (errors & G_TLS_CERTIFICATE_EXPIRED)
    {
      g_autoptr(GDateTime) until = g_tls_certificate_get_not_valid_after (run->peer_certificate);
      g_autofree char *date = format_date (until);

      g_ptr_array_add (problems, g_strdup_printf (_("it expired on %s"), date));
    }
  if (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    {
      g_autoptr(GDateTime) from = g_tls_certificate_get_not_valid_before (run->peer_certificate);
      g_autofree char *date = format_date (from);

      g_ptr_array_add (problems, g_strdup_printf (_("it is not valid before %s"), date));
    }
  if (errors & G_TLS_CERTIFICATE_REVOKED)
    g_ptr_array_add (problems, g_strdup (_("it was revoked")));
  if (errors & G_TLS_CERTIFICATE_INSECURE)
    g_ptr_array_add (problems, g_strdup (_("it uses insecure cryptography")));
  if (errors & G_TLS_CERTIFICATE_GENERIC_ERROR || problems->len == 0)
    g_ptr_array_add (problems, g_strdup (_("it could not be verified")));

  for (guint i = 0; i < problems->len; i++)
    {
      if (i > 0)
        g_string_append (text, i + 1 == problems->len ? _(" and ") : ", ");
      g_string_append (text, g_ptr_array_index (problems, i));
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
judge_certificate (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GByteArray) der = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *problems = NULL;
  g_autofree char *pinned_shown = NULL;
  gboolean matches;

  g_object_get (run->peer_certificate, "certificate", &der, NULL);
  if (der == NULL)
    {
      set_skip_reason (run, _("the server’s certificate could not be read"));
      end_check (task, PS_DIAGNOSTIC_FAIL, _("The server’s certificate could not be read."),
                 _("Ask the server’s administrator to check its TLS setup."));
      return;
    }

  fingerprint = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
  shown = format_fingerprint (fingerprint);
  matches = self->pinned_fingerprint != NULL && g_str_equal (fingerprint, self->pinned_fingerprint);
  ps_diagnostic_result_set_fingerprint (run->current, fingerprint);
  ps_diagnostic_result_set_fingerprint_matches (run->current, matches);
  if (self->pinned_fingerprint != NULL)
    pinned_shown = format_fingerprint (self->pinned_fingerprint);

  if (run->peer_errors == 0)
    {
      g_autoptr(GDateTime) until = g_tls_certificate_get_not_valid_after (run->peer_certificate);
      g_autofree char *date = format_date (until);

      explanation = g_strdup_printf (_("The certificate of %s is trusted by this computer and "
                                       "valid until %s (SHA-256 %s)."),
                                     run->host, date, shown);
      end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  problems = describe_certificate_errors (run, run->peer_errors);

  if (matches)
    {
      run->trusted_by_pin = TRUE;
      explanation = g_strdup_printf (_("This computer does not trust the certificate of %s "
                                       "(%s), but it is the one pinned for this server "
                                       "(SHA-256 %s)."),
                                     run->host, problems, shown);

      if (run->peer_errors & (G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_NOT_ACTIVATED))
        end_check (task, PS_DIAGNOSTIC_WARNING, explanation,
                   _("Ask the server’s administrator to renew the certificate; then confirm "
                     "the new fingerprint with them and pin it."));
      else
        end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  set_skip_reason (run, _("the server’s certificate is not trusted"));

  if (self->pinned_fingerprint != NULL)
    {
      explanation = g_strdup_printf (_("The certificate of %s is not trusted: %s. Its SHA-256 "
                                       "fingerprint %s does not match the pinned one, %s."),
                                     run->host, problems, shown, pinned_shown);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("The certificate changed since it was pinned. That happens when it is "
                   "renewed, but also when someone intercepts the connection: confirm the new "
                   "fingerprint with the server’s administrator (by phone or in person) before "
                   "pinning it."));
      return;
    }

  explanation = g_strdup_printf (_("The certificate of %s is not trusted: %s. Its SHA-256 "
                                   "fingerprint is %s."), run->host, problems, shown);

  if (run->peer_errors & (G_TLS_CERTIFICATE_EXPIRED | G_TLS_CERTIFICATE_NOT_ACTIVATED))
    end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
               _("Ask the server’s administrator to renew the certificate, or to check the "
                 "server’s clock."));
  else if ((run->peer_errors & G_TLS_CERTIFICATE_UNKNOWN_CA) == 0)
    end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
               _("Check the address: use the name the certificate was issued for, if it is "
                 "the same server."));
  else
    end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
               _("If the server uses its own (self-signed) certificate, ask its administrator "
                 "to confirm this fingerprint by phone or in person, then pin it in the "
                 "server’s settings. Never pin a fingerprint nobody confirmed."));
}

static void
on_handshake_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) tls = G_IO_STREAM (object);
  g_autofree char *explanation = NULL;
  gboolean ok;

  disarm_deadline (run);
  ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (tls), result, &error);
  g_signal_handlers_disconnect_by_data (tls, run);
  if (stop_if_cancelled (task))
    return;

  if (ok && run->peer_certificate == NULL)
    {
      run->peer_certificate = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (tls));
      if (run->peer_certificate != NULL)
        g_object_ref (run->peer_certificate);
      run->peer_errors = 0;
    }
  g_io_stream_close_async (tls, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&run->connection);

  if (ok && run->peer_certificate != NULL)
    {
      judge_certificate (task);
      return;
    }

  set_skip_reason (run, _("no secure connection could be made"));

  if (ok)
    end_check (task, PS_DIAGNOSTIC_FAIL, _("The server showed no certificate."),
               _("Ask the server’s administrator to check its TLS setup."));
  else if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS))
    {
      explanation = g_strdup_printf (_("The server does not speak https on port %u."),
                                     run->port);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Try the address with http:// instead of https://, or the server’s https "
                   "port (CouchDB usually uses 6984)."));
    }
  else if (is_timeout (run, error))
    {
      g_autofree char *limit = format_timeout (self);

      explanation = g_strdup_printf (_("The server accepted the connection but did not "
                                       "complete the secure handshake within %s."), limit);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Check that the port speaks https; a stuck server or a firewall that "
                   "inspects traffic can also cause this."));
    }
  else
    {
      explanation = g_strdup_printf (_("The secure connection could not be set up: %s."),
                                     error->message);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Check that the port speaks https, and ask the server’s administrator to "
                   "check its TLS setup."));
    }
}

static void
check_tls (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autofree char *explanation = NULL;

  start_check (task, "tls", _("Secure connection (TLS)"));

  if (!run->https)
    {
      g_clear_object (&run->connection);
      end_check (task, PS_DIAGNOSTIC_SKIPPED,
                 _("Not checked: the address uses http, so there is no certificate."), NULL);
      return;
    }

  identity = g_network_address_new (run->host, run->port);
  tls = g_tls_client_connection_new (G_IO_STREAM (run->connection), identity, &error);
  if (tls == NULL)
    {
      set_skip_reason (run, _("no secure connection could be made"));
      explanation = g_strdup_printf (_("Secure connections are not available on this "
                                       "computer: %s."), error->message);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Install the GLib networking support (glib-networking)."));
      return;
    }

  g_signal_connect (tls, "accept-certificate", G_CALLBACK (on_tls_accept_certificate_cb), run);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                    arm_deadline (task), on_handshake_cb, g_object_ref (task));
  /* The callback owns the stream now. */
  tls = NULL;
}

/* 5. HTTP: is it CouchDB? */

static char *
strip_userinfo (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED, NULL);

  if (uri == NULL)
    return ps_couch_redact_url (url);

  return g_uri_join (G_URI_FLAGS_ENCODED, g_uri_get_scheme (uri), NULL, g_uri_get_host (uri),
                     g_uri_get_port (uri), g_uri_get_path (uri), NULL, NULL);
}

static void
on_discovery_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) answer = NULL;
  SoupMessage *message = NULL;
  const char *target = NULL;
  JsonNode *databases = NULL;

  body = finish_request (task, result, &message, &error);
  if (stop_if_cancelled (task))
    return;

  if (body != NULL && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    answer = parse_object (body);
  if (answer != NULL)
    {
      target = json_object_get_string_member_with_default (answer, "target", NULL);
      databases = json_object_get_member (answer, "databases");
    }

  if (target != NULL && databases != NULL)
    {
      g_autofree char *address = strip_userinfo (target);
      g_autoptr(GString) names = g_string_new (NULL);
      g_autofree char *explanation = NULL;
      g_autofree char *advice = NULL;
      g_autoptr(GList) values = NULL;

      if (JSON_NODE_HOLDS_ARRAY (databases))
        values = json_array_get_elements (json_node_get_array (databases));
      else if (JSON_NODE_HOLDS_OBJECT (databases))
        values = json_object_get_values (json_node_get_object (databases));

      for (GList *l = values; l != NULL; l = l->next)
        {
          if (!JSON_NODE_HOLDS_VALUE (l->data) ||
              json_node_get_value_type (l->data) != G_TYPE_STRING)
            continue;
          if (names->len > 0)
            g_string_append (names, ", ");
          g_string_append (names, json_node_get_string (l->data));
        }

      explanation = g_strdup_printf (_("This is the Primero web application, not its CouchDB "
                                       "database server. Primero says its CouchDB is at %s "
                                       "(databases: %s)."),
                                     address, names->len > 0 ? names->str : "?");
      advice = g_strdup_printf (_("Use %s as this server’s address."), address);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation, advice);
      return;
    }

  end_check (task, PS_DIAGNOSTIC_FAIL,
             _("This is the Primero web application, not its CouchDB database server."),
             _("Ask the Primero administrator for the address of the CouchDB server behind "
               "it (often the same host, on port 6984 or 5984)."));
}

static void
report_web_page (GTask       *task,
                 SoupMessage *message,
                 GBytes      *body)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  set_skip_reason (run, _("the address is not CouchDB’s"));

  if (body_contains (body, "primero"))
    {
      /* Primero's own sync asks the web application where its CouchDB is. */
      if (self->username != NULL && self->password != NULL)
        {
          g_autofree char *form = soup_form_encode ("user_name", self->username,
                                                    "password", self->password,
                                                    NULL);
          g_autoptr(GBytes) form_bytes = g_bytes_new_take (form, strlen (form));

          form = NULL;
          send_request (task, "POST", "/replications/configuration", form_bytes,
                        "application/x-www-form-urlencoded", FALSE, on_discovery_cb);
          return;
        }

      end_check (task, PS_DIAGNOSTIC_FAIL,
                 _("This is the Primero web application, not its CouchDB database server."),
                 _("Ask the Primero administrator for the address of the CouchDB server behind "
                   "it (often the same host, on port 6984 or 5984)."));
      return;
    }

  end_check (task, PS_DIAGNOSTIC_FAIL,
             _("A web page answered instead of CouchDB: this is a web site, a proxy or a "
               "network login page (captive portal), not the database."),
             _("Check the port in the address (CouchDB usually listens on 5984, or 6984 for "
               "https). If this network has a login page, open a web browser, sign in, then "
               "try again."));
}

static void
report_redirect (GTask       *task,
                 SoupMessage *message)
{
  Run *run = g_task_get_task_data (task);
  const char *location;
  g_autoptr(GUri) target = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *advice = NULL;

  set_skip_reason (run, _("the server sends visitors elsewhere"));

  location = soup_message_headers_get_one (soup_message_get_response_headers (message),
                                           "Location");
  if (location != NULL)
    target = g_uri_parse_relative (soup_message_get_uri (message), location,
                                   G_URI_FLAGS_ENCODED, NULL);
  if (target == NULL)
    {
      explanation = g_strdup_printf (_("The server answered with a redirection (%u) to "
                                       "nowhere."), soup_message_get_status (message));
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Check the address; this is not CouchDB."));
      return;
    }

  {
    g_autofree char *text = g_uri_to_string (target);

    shown = strip_userinfo (text);
  }
  explanation = g_strdup_printf (_("The server sends visitors to %s instead of answering."),
                                 shown);

  if (g_ascii_strcasecmp (g_uri_get_host (target) != NULL ? g_uri_get_host (target) : "",
                          run->host) == 0)
    advice = g_strdup_printf (_("Use the address it points to, %s, if that is the CouchDB "
                                "server."), shown);
  else
    advice = g_strdup (_("This network may be sending you to its login page (a captive "
                         "portal): open a web browser, sign in, then try again. Otherwise "
                         "check the address."));

  end_check (task, PS_DIAGNOSTIC_FAIL, explanation, advice);
}

static void
on_root_answered_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) welcome = NULL;
  g_autofree char *explanation = NULL;
  SoupMessage *message = NULL;
  guint status;

  body = finish_request (task, result, &message, &error);
  if (stop_if_cancelled (task))
    return;

  if (body == NULL)
    {
      set_skip_reason (run, _("the server does not answer"));

      if (is_timeout (run, error))
        {
          g_autofree char *limit = format_timeout (self);

          explanation = g_strdup_printf (_("The server accepted the connection but sent no "
                                           "answer within %s."), limit);
          end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                     _("The server, or a proxy in front of it, is stuck or overloaded. Ask "
                       "its administrator to check CouchDB; if this network filters traffic, "
                       "try from another network."));
          return;
        }

      explanation = g_strdup_printf (_("The server closed the connection without answering "
                                       "(%s)."), error->message);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Check that the port is CouchDB’s (usually 5984, or 6984 for https) and "
                   "that the address starts with https:// only if the server speaks https."));
      return;
    }

  note_server_date (task, message);
  status = soup_message_get_status (message);

  if (status == SOUP_STATUS_UNAUTHORIZED && !run->send_credentials && self->username != NULL)
    {
      /* Some servers require a login for everything. */
      run->send_credentials = TRUE;
      send_request (task, "GET", "/", NULL, NULL, TRUE, on_root_answered_cb);
      return;
    }

  if (status == SOUP_STATUS_UNAUTHORIZED)
    {
      end_check (task, PS_DIAGNOSTIC_WARNING,
                 _("The server asks for a login before it says what it is, so it cannot be "
                   "confirmed as CouchDB yet."),
                 _("See the login check below."));
      return;
    }

  if (SOUP_STATUS_IS_REDIRECTION (status))
    {
      report_redirect (task, message);
      return;
    }

  if (looks_like_html (message, body))
    {
      report_web_page (task, message, body);
      return;
    }

  if (status >= 500)
    {
      set_skip_reason (run, _("the server is failing"));
      explanation = g_strdup_printf (_("The server answered with an error (%u %s): it is "
                                       "reachable, but CouchDB or a proxy in front of it is "
                                       "failing."),
                                     status, soup_message_get_reason_phrase (message));
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Ask the server’s administrator to check that CouchDB is running; a proxy "
                   "answering 502, 503 or 504 cannot reach it."));
      return;
    }

  welcome = parse_object (body);

  if (welcome != NULL && SOUP_STATUS_IS_SUCCESSFUL (status) &&
      json_object_has_member (welcome, "couchdb"))
    {
      const char *version = json_object_get_string_member_with_default (welcome, "version", "?");

      explanation = g_strdup_printf (_("CouchDB %s answers."), version);
      end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  if (welcome != NULL && SOUP_STATUS_IS_SUCCESSFUL (status) &&
      json_object_has_member (welcome, "express-pouchdb"))
    {
      const char *version = json_object_get_string_member_with_default (welcome, "version", "?");

      explanation = g_strdup_printf (_("PouchDB Server %s answers; it speaks CouchDB’s "
                                       "protocol."), version);
      end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  set_skip_reason (run, _("the address is not CouchDB’s"));

  if (welcome != NULL && SOUP_STATUS_IS_SUCCESSFUL (status) &&
      json_object_has_member (welcome, "db_name"))
    {
      g_autofree char *server = g_strdup (run->root);
      g_autofree char *advice = NULL;
      char *slash = strrchr (server, '/');

      if (slash != NULL && slash > strstr (server, "://") + 2)
        *slash = '\0';
      explanation = g_strdup_printf (_("This address names the database “%s”, not the "
                                       "server."),
                                     json_object_get_string_member_with_default (welcome,
                                                                                 "db_name", "?"));
      advice = g_strdup_printf (_("Use the server’s address without the database name: %s."),
                                server);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation, advice);
      return;
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      explanation = g_strdup_printf (_("The server answered “%u %s” at this address: it is not "
                                       "CouchDB, or CouchDB is served under another path."),
                                     status, soup_message_get_reason_phrase (message));
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Check the address: when CouchDB sits behind a proxy under a path, include "
                   "the path, as in https://example.org/couchdb."));
      return;
    }

  end_check (task, PS_DIAGNOSTIC_FAIL, _("The server answered, but not as CouchDB does."),
             _("Check the address and the port: another service answers there."));
}

static void
check_http (GTask *task)
{
  start_check (task, "http", _("CouchDB server"));
  send_request (task, "GET", "/", NULL, NULL, FALSE, on_root_answered_cb);
}

/* 6. Credentials */

static gboolean
session_has_role (JsonObject *session,
                  const char *role)
{
  JsonObject *user_ctx;
  JsonArray *roles;

  if (session == NULL)
    return FALSE;

  user_ctx = json_object_get_object_member (session, "userCtx");
  if (user_ctx == NULL || !json_object_has_member (user_ctx, "roles") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (user_ctx, "roles")))
    return FALSE;

  roles = json_object_get_array_member (user_ctx, "roles");
  for (guint i = 0; i < json_array_get_length (roles); i++)
    {
      JsonNode *node = json_array_get_element (roles, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING &&
          g_str_equal (json_node_get_string (node), role))
        return TRUE;
    }

  return FALSE;
}

static char *
session_roles (JsonObject *session)
{
  g_autoptr(GString) text = g_string_new (NULL);
  JsonObject *user_ctx = json_object_get_object_member (session, "userCtx");
  JsonArray *roles;

  if (user_ctx == NULL || !json_object_has_member (user_ctx, "roles") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (user_ctx, "roles")))
    return g_strdup ("");

  roles = json_object_get_array_member (user_ctx, "roles");
  for (guint i = 0; i < json_array_get_length (roles); i++)
    {
      JsonNode *node = json_array_get_element (roles, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        continue;
      if (text->len > 0)
        g_string_append (text, ", ");
      g_string_append (text, json_node_get_string (node));
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static const char *
session_name (JsonObject *session)
{
  JsonObject *user_ctx;

  if (session == NULL)
    return NULL;

  user_ctx = json_object_get_object_member (session, "userCtx");
  if (user_ctx == NULL)
    return NULL;

  return json_object_get_string_member_with_default (user_ctx, "name", NULL);
}

static const char *admin_party_explanation_with_user =
  N_("The password was accepted, but this server lets anyone in as an administrator, with no "
     "password at all (“admin party”).");
static const char *admin_party_explanation =
  N_("This server lets anyone in as an administrator, with no password at all (“admin "
     "party”).");
static const char *admin_party_advice =
  N_("Ask the server’s administrator to create an admin user: until then, anyone who reaches "
     "the server can read and change every record.");

static void
on_anonymous_session_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) session = NULL;
  SoupMessage *message = NULL;

  body = finish_request (task, result, &message, &error);
  if (stop_if_cancelled (task))
    return;

  if (body != NULL && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    session = parse_object (body);

  if (session_has_role (session, "_admin"))
    {
      end_check (task, PS_DIAGNOSTIC_WARNING,
                 self->username != NULL ? _(admin_party_explanation_with_user)
                                        : _(admin_party_explanation),
                 _(admin_party_advice));
      return;
    }

  if (self->username == NULL)
    {
      end_check (task, PS_DIAGNOSTIC_WARNING,
                 _("No user name was given: the server is used anonymously."),
                 _("Enter the user name and password of the CouchDB user that Primero uses "
                   "for replication."));
      return;
    }

  /* The logged-in answer was kept in the phase before. */
  g_assert (run->login_explanation != NULL);
  end_check (task, PS_DIAGNOSTIC_PASS, run->login_explanation, NULL);
}

static void
on_session_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) session = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *roles = NULL;
  SoupMessage *message = NULL;
  const char *name;
  guint status;

  body = finish_request (task, result, &message, &error);
  if (stop_if_cancelled (task))
    return;

  if (body == NULL)
    {
      set_skip_reason (run, _("the server stopped answering"));
      end_with_transport_error (task, error);
      return;
    }

  if (run->have_clock == FALSE)
    note_server_date (task, message);

  status = soup_message_get_status (message);
  if (status == SOUP_STATUS_UNAUTHORIZED)
    {
      set_string (&run->skip_db_reason, _("the server refused the user name or password"));
      explanation = g_strdup_printf (_("The server refused the user name “%s” or its "
                                       "password."), self->username);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Check the user name, and type the password again (capital letters count). "
                   "If the password was changed on the server, change it here too."));
      return;
    }

  if (status == SOUP_STATUS_FORBIDDEN)
    {
      set_string (&run->skip_db_reason, _("the user may not log in"));
      explanation = g_strdup_printf (_("The user “%s” is known, but may not log in to this "
                                       "server."), self->username);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Ask the server’s administrator to give this user access, or use the "
                   "account Primero uses for replication."));
      return;
    }

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    session = parse_object (body);

  if (session == NULL)
    {
      end_check (task, PS_DIAGNOSTIC_WARNING,
                 _("The server cannot say who is logged in; the database checks show whether "
                   "the login works."),
                 NULL);
      return;
    }

  name = session_name (session);
  if (g_strcmp0 (name, self->username) != 0)
    {
      if (session_has_role (session, "_admin"))
        {
          end_check (task, PS_DIAGNOSTIC_WARNING, _(admin_party_explanation),
                     _(admin_party_advice));
          return;
        }

      explanation = g_strdup_printf (_("The server did not confirm the login of “%s”; the "
                                       "database checks show what it may do."),
                                     self->username);
      end_check (task, PS_DIAGNOSTIC_WARNING, explanation, NULL);
      return;
    }

  roles = session_roles (session);
  if (session_has_role (session, "_admin"))
    explanation = g_strdup_printf (_("Logged in as “%s”, a server administrator."),
                                   self->username);
  else if (*roles != '\0')
    explanation = g_strdup_printf (_("Logged in as “%s” (roles: %s)."), self->username, roles);
  else
    explanation = g_strdup_printf (_("Logged in as “%s”, a user without roles; the database "
                                     "checks show what it may do."), self->username);

  /* Kept until the admin-party question is answered. */
  g_free (run->login_explanation);
  run->login_explanation = g_steal_pointer (&explanation);
  send_request (task, "GET", "/_session", NULL, NULL, FALSE, on_anonymous_session_cb);
}

static void
check_credentials (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autofree char *explanation = NULL;

  start_check (task, "credentials", _("Login"));

  if (self->username == NULL)
    {
      send_request (task, "GET", "/_session", NULL, NULL, FALSE, on_anonymous_session_cb);
      return;
    }

  if (self->password == NULL)
    {
      set_string (&run->skip_db_reason, _("there is no password"));
      explanation = g_strdup_printf (_("No password is known for the user “%s”."),
                                     self->username);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Enter the password in the server’s settings; it is kept in the desktop "
                   "keyring."));
      return;
    }

  send_request (task, "GET", "/_session", NULL, NULL, TRUE, on_session_cb);
}

/* 7. Record databases */

static char *
database_path (const char *database,
               const char *rest)
{
  g_autofree char *escaped = g_uri_escape_string (database, NULL, FALSE);

  return g_strconcat ("/", escaped, rest, NULL);
}

static const char *
current_database (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);

  return self->databases[run->db_index];
}

static char *
describe_user (PsDiagnostics *self)
{
  if (self->username != NULL)
    return g_strdup_printf (_("the user “%s”"), self->username);

  return g_strdup (_("an anonymous user"));
}

static void
on_note_removed_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *explanation = NULL;
  SoupMessage *message = NULL;
  const char *database = current_database (task);

  body = finish_request (task, result, &message, &error);
  if (stop_if_cancelled (task))
    return;

  if (body == NULL || !SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    {
      explanation = g_strdup_printf (_("“%s” exists and accepts writes, but the test note "
                                       "%s could not be removed again."),
                                     database, run->doc_path);
      end_check (task, PS_DIAGNOSTIC_WARNING, explanation,
                 _("The note is harmless and is not replicated; the server’s administrator "
                   "can delete it."));
      return;
    }

  if (run->doc_count >= 0)
    explanation = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                "“%s” exists (%" G_GINT64_FORMAT " record), can "
                                                "be read and accepts writes.",
                                                "“%s” exists (%" G_GINT64_FORMAT " records), can "
                                                "be read and accepts writes.",
                                                run->doc_count),
                                   database, run->doc_count);
  else
    explanation = g_strdup_printf (_("“%s” exists, can be read and accepts writes."), database);

  end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
}

static void
on_note_written_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *who = describe_user (self);
  g_autofree char *path = NULL;
  g_autofree char *escaped_rev = NULL;
  SoupMessage *message = NULL;
  const char *database = current_database (task);
  const char *rev;
  guint status;

  body = finish_request (task, result, &message, &error);
  if (stop_if_cancelled (task))
    return;

  if (body == NULL)
    {
      end_with_transport_error (task, error);
      return;
    }

  status = soup_message_get_status (message);
  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    {
      explanation = g_strdup_printf (_("“%s” can be read, but %s may not write to it (%u)."),
                                     database, who, status);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("A sync writes records: ask the server’s administrator to make the user a "
                   "member or admin of the database."));
      return;
    }

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    answer = parse_object (body);
  rev = answer != NULL ? json_object_get_string_member_with_default (answer, "rev", NULL) : NULL;
  if (rev == NULL)
    {
      explanation = g_strdup_printf (_("“%s” can be read, but writing a test note failed "
                                       "(%u %s)."),
                                     database, status, soup_message_get_reason_phrase (message));
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Ask the server’s administrator whether the database is read-only or the "
                   "disk is full."));
      return;
    }

  set_string (&run->doc_rev, rev);
  escaped_rev = g_uri_escape_string (rev, NULL, FALSE);
  {
    g_autofree char *doc = database_path (database, "/");

    path = g_strconcat (doc, run->doc_path, "?rev=", escaped_rev, NULL);
  }
  send_request (task, "DELETE", path, NULL, NULL, TRUE, on_note_removed_cb);
}

static void
on_database_info_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) note = NULL;
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *who = describe_user (self);
  g_autofree char *uuid = NULL;
  g_autofree char *path = NULL;
  g_autofree char *stamp = NULL;
  g_autofree char *note_text = NULL;
  SoupMessage *message = NULL;
  const char *database = current_database (task);
  guint status;

  body = finish_request (task, result, &message, &error);
  if (stop_if_cancelled (task))
    return;

  if (body == NULL)
    {
      end_with_transport_error (task, error);
      return;
    }

  status = soup_message_get_status (message);
  if (status == SOUP_STATUS_NOT_FOUND)
    {
      explanation = g_strdup_printf (_("The database “%s” does not exist on this server."),
                                     database);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Check the database names in the server’s settings (by default "
                   "primero_<record type>_production), and ask the server’s administrator "
                   "which names Primero uses there."));
      return;
    }

  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    {
      explanation = g_strdup_printf (_("“%s” exists, but %s may not read it (%u)."),
                                     database, who, status);
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Ask the server’s administrator to make the user a member or admin of the "
                   "database, or use the account Primero uses for replication."));
      return;
    }

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    info = parse_object (body);
  if (info == NULL)
    {
      explanation = g_strdup_printf (_("Asking for “%s” gave an unexpected answer (%u %s)."),
                                     database, status, soup_message_get_reason_phrase (message));
      end_check (task, PS_DIAGNOSTIC_FAIL, explanation,
                 _("Ask the server’s administrator to check the database."));
      return;
    }

  run->doc_count = -1;
  if (json_object_has_member (info, "doc_count") &&
      JSON_NODE_HOLDS_VALUE (json_object_get_member (info, "doc_count")))
    run->doc_count = json_object_get_int_member (info, "doc_count");

  /* A _local note is never replicated, so writing it disturbs nothing. */
  uuid = g_uuid_string_random ();
  g_free (run->doc_path);
  run->doc_path = g_strconcat (DIAGNOSTIC_DOC_PREFIX, uuid, NULL);
  now = g_date_time_new_now_utc ();
  stamp = g_date_time_format_iso8601 (now);
  note_text = g_strdup_printf ("{\"purpose\":\"Primero Sync connectivity check\",\"at\":\"%s\"}",
                               stamp);
  note = g_bytes_new_take (note_text, strlen (note_text));
  note_text = NULL;
  {
    g_autofree char *doc = database_path (database, "/");

    path = g_strconcat (doc, run->doc_path, NULL);
  }
  send_request (task, "PUT", path, note, "application/json", TRUE, on_note_written_cb);
}

static void
check_database (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autofree char *id = NULL;
  g_autofree char *title = NULL;
  g_autofree char *path = NULL;
  const char *database;

  if (self->databases == NULL || self->databases[0] == NULL)
    {
      start_check (task, "databases", _("Record databases"));
      end_check (task, PS_DIAGNOSTIC_WARNING, _("No record databases are configured."),
                 _("Enter the record types or the database names in the server’s settings."));
      return;
    }

  database = current_database (task);
  id = g_strconcat ("database:", database, NULL);
  /* TRANSLATORS: %s is a database name */
  title = g_strdup_printf (_("Database %s"), database);

  if (run->skip_reason != NULL || run->skip_db_reason != NULL)
    {
      skip_check (task, id, title,
                  run->skip_reason != NULL ? run->skip_reason : run->skip_db_reason);
      return;
    }

  start_check (task, id, title);
  path = database_path (database, NULL);
  send_request (task, "GET", path, NULL, NULL, TRUE, on_database_info_cb);
}

/* 8. Clock */

static void
check_clock (GTask *task)
{
  Run *run = g_task_get_task_data (task);
  g_autofree char *difference = NULL;
  g_autofree char *explanation = NULL;
  gint64 offset = run->clock_offset;
  const char *advice;

  start_check (task, "clock", _("Clock"));

  if (!run->have_clock)
    {
      end_check (task, PS_DIAGNOSTIC_SKIPPED,
                 _("Not checked: the server did not say what time it is."), NULL);
      return;
    }

  difference = format_seconds (offset);
  advice = _("Set the right time on this computer and on the server (turn on automatic time "
             "or NTP on both). Conflicts are resolved by the time of each change, so a wrong "
             "clock lets older edits win over newer ones.");

  if (ABS (offset) <= CLOCK_WARNING_SECONDS)
    {
      explanation = g_strdup_printf (_("The clocks of this computer and the server agree "
                                       "(difference: %s)."), difference);
      end_check (task, PS_DIAGNOSTIC_PASS, explanation, NULL);
      return;
    }

  if (offset > 0)
    explanation = g_strdup_printf (_("The server’s clock is %s ahead of this computer’s."),
                                   difference);
  else
    explanation = g_strdup_printf (_("The server’s clock is %s behind this computer’s."),
                                   difference);

  end_check (task,
             ABS (offset) > CLOCK_FAILURE_SECONDS ? PS_DIAGNOSTIC_FAIL : PS_DIAGNOSTIC_WARNING,
             explanation, advice);
}

/* 9. Latency and throughput */

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static void
finish_latency (GTask  *task,
                gint64  bytes,
                gint64  elapsed)
{
  PsDiagnostics *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autoptr(GString) explanation = g_string_new (NULL);
  gint64 sorted[LATENCY_SAMPLES];
  guint median_ms;

  memcpy (sorted, run->samples, sizeof sorted);
  qsort (sorted, LATENCY_SAMPLES, sizeof (gint64), compare_gint64);
  median_ms = sorted[LATENCY_SAMPLES / 2] / 1000;

  g_string_append_printf (explanation,
                          _("Median round trip %u ms over %u requests (fastest %u ms, slowest "
                            "%u ms)."),
                          median_ms, (guint) LATENCY_SAMPLES,
                          (guint) (sorted[0] / 1000),
                          (guint) (sorted[LATENCY_SAMPLES - 1] / 1000));

  if (bytes >= THROUGHPUT_MIN_BYTES && elapsed > 0)
    {
      guint64 per_second = bytes * (gdouble) G_USEC_PER_SEC / elapsed;
      g_autofree char *rate = g_format_size (per_second);

      g_string_append_c (explanation, ' ');
      /* TRANSLATORS: %s is a size such as "1.2 MB" */
      g_string_append_printf (explanation, _("Downloads run at roughly %s per second."), rate);
    }

  if (median_ms > SLOW_LATENCY_MS)
    {
      end_check (task, PS_DIAGNOSTIC_WARNING, explanation->str,
                 self->continuous
                   ? _("The link is slow: syncs will take long. Continuous sync over such a link "
                       "may keep timing out; a one-shot sync at a quiet time may work better.")
                   : _("The link is slow: syncs will take long. Sync at a quiet time, or from a "
                       "better connection."));
      return;
    }

  end_check (task, PS_DIAGNOSTIC_PASS, explanation->str, NULL);
}

static void
on_throughput_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  SoupMessage *message = NULL;
  gint64 elapsed = g_get_monotonic_time () - run->request_started;

  body = finish_request (task, result, &message, &error);
  if (stop_if_cancelled (task))
    return;

  /* The speed is a bonus: without it, the latency still says enough. */
  if (body == NULL || !SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    finish_latency (task, 0, 0);
  else
    finish_latency (task, g_bytes_get_size (body), elapsed);
}

static void
on_round_trip_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  SoupMessage *message = NULL;
  gint64 elapsed = g_get_monotonic_time () - run->request_started;

  body = finish_request (task, result, &message, &error);
  if (stop_if_cancelled (task))
    return;

  if (body == NULL)
    {
      end_with_transport_error (task, error);
      return;
    }

  run->samples[run->n_samples++] = elapsed;
  if (run->n_samples < LATENCY_SAMPLES)
    {
      send_request (task, "GET", "/", NULL, NULL, run->send_credentials, on_round_trip_cb);
      return;
    }

  /* CouchDB hands out up to 1000 ids per request: some 40 kB to time. */
  send_request (task, "GET", "/_uuids?count=1000", NULL, NULL, run->send_credentials,
                on_throughput_cb);
}

static void
check_latency (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  start_check (task, "latency", _("Speed"));
  run->n_samples = 0;
  send_request (task, "GET", "/", NULL, NULL, run->send_credentials, on_round_trip_cb);
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

  start_check (task, "advice", _("Advice"));

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

  end_check (task, worst, explanation, advice->str);
}

static void
finish_run (GTask *task)
{
  PsDiagnostics *self = g_task_get_source_object (task);

  self->running = FALSE;
  notify_state (self);
  g_task_return_boolean (task, TRUE);
}

static void
run_step (GTask *task)
{
  Run *run = g_task_get_task_data (task);

  if (stop_if_cancelled (task))
    return;

  /* Checks that need a working connection are skipped once one failed. */
  if (run->skip_reason != NULL)
    {
      switch (run->step)
        {
        case STEP_NAME:
          skip_check (task, "name-resolution", _("Name resolution"), run->skip_reason);
          return;
        case STEP_TCP:
          skip_check (task, "tcp", _("Connection"), run->skip_reason);
          return;
        case STEP_TLS:
          skip_check (task, "tls", _("Secure connection (TLS)"), run->skip_reason);
          return;
        case STEP_HTTP:
          skip_check (task, "http", _("CouchDB server"), run->skip_reason);
          return;
        case STEP_CREDENTIALS:
          skip_check (task, "credentials", _("Login"), run->skip_reason);
          return;
        case STEP_CLOCK:
          skip_check (task, "clock", _("Clock"), run->skip_reason);
          return;
        case STEP_LATENCY:
          skip_check (task, "latency", _("Speed"), run->skip_reason);
          return;
        case STEP_URL:
        case STEP_DATABASES:
        case STEP_ADVICE:
        case STEP_DONE:
        default:
          break;
        }
    }

  switch (run->step)
    {
    case STEP_URL:
      check_url (task);
      break;
    case STEP_NAME:
      check_name (task);
      break;
    case STEP_TCP:
      check_tcp (task);
      break;
    case STEP_TLS:
      check_tls (task);
      break;
    case STEP_HTTP:
      check_http (task);
      break;
    case STEP_CREDENTIALS:
      check_credentials (task);
      break;
    case STEP_DATABASES:
      check_database (task);
      break;
    case STEP_CLOCK:
      check_clock (task);
      break;
    case STEP_LATENCY:
      check_latency (task);
      break;
    case STEP_ADVICE:
      check_advice (task);
      break;
    case STEP_DONE:
    default:
      finish_run (task);
      break;
    }
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
  run->display_url = ps_couch_redact_url (self->url);
  if (cancellable != NULL)
    {
      run->cancellable = g_object_ref (cancellable);
      /* A plain handler: g_cancellable_disconnect() would deadlock when
       * the run ends inside the emission.
       */
      run->cancelled_id = g_signal_connect (cancellable, "cancelled",
                                            G_CALLBACK (on_run_cancelled_cb), run);
    }
  g_task_set_task_data (task, g_steal_pointer (&run), (GDestroyNotify) run_free);

  g_list_store_remove_all (self->results);
  g_clear_pointer (&self->checked_at, g_date_time_unref);
  self->checked_at = g_date_time_new_now_utc ();
  self->running = TRUE;
  notify_state (self);

  run_step (task);
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
  return ps_couch_redact_url (self->url != NULL ? self->url : "");
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

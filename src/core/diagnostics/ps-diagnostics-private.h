/* ps-diagnostics-private.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the checks share: the object's fields, the state of one run and the
 * helpers that start, time and end a check. Each group of checks lives in
 * its own file: ps-diagnostics-network.c (address, name, connection, TLS),
 * ps-diagnostics-couch.c (CouchDB, login, databases) and
 * ps-diagnostics-timing.c (clock, speed).
 */

#pragma once

#include "ps-couch-database.h"
#include "ps-diagnostics.h"

G_BEGIN_DECLS

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

/* ps-diagnostics-couch.c */
void ps_diag_check_credentials (GTask *task);
void ps_diag_check_database (GTask *task);
void ps_diag_check_http (GTask *task);

/* ps-diagnostics.c */
void ps_diag_notify_state (PsDiagnostics *self);
void ps_diag_run_step (GTask *task);
void ps_diag_set_string (char       **field,
                         const char  *value);

/* ps-diagnostics-network.c */
void ps_diag_check_name (GTask *task);
void ps_diag_check_tcp (GTask *task);
void ps_diag_check_tls (GTask *task);
void ps_diag_check_url (GTask *task);

/* ps-diagnostics-run.c */
GCancellable *ps_diag_arm_deadline (GTask *task);
gboolean ps_diag_body_contains (GBytes     *body,
                                const char *needle);
void ps_diag_disarm_deadline (Run *run);
void ps_diag_end_check (GTask               *task,
                        PsDiagnosticVerdict  verdict,
                        const char          *explanation,
                        const char          *advice);
void ps_diag_end_with_transport_error (GTask        *task,
                                       const GError *error);
GBytes *ps_diag_finish_request (GTask         *task,
                                GAsyncResult  *result,
                                SoupMessage  **message,
                                GError       **error);
char *ps_diag_format_date (GDateTime *date);
char *ps_diag_format_fingerprint (const char *hex);
char *ps_diag_format_seconds (gint64 seconds);
char *ps_diag_format_timeout (PsDiagnostics *self);
gboolean ps_diag_is_timeout (Run          *run,
                             const GError *error);
gboolean ps_diag_looks_like_html (SoupMessage *message,
                                  GBytes      *body);
void ps_diag_note_server_date (GTask       *task,
                               SoupMessage *message);
void ps_diag_on_run_cancelled_cb (GCancellable *cancellable,
                                  gpointer      user_data);
JsonObject *ps_diag_parse_object (GBytes *body);
void ps_diag_send_request (GTask               *task,
                           const char          *method,
                           const char          *path,
                           GBytes              *body,
                           const char          *content_type,
                           gboolean             with_credentials,
                           GAsyncReadyCallback  callback);
void ps_diag_set_skip_reason (Run        *run,
                              const char *reason);
void ps_diag_skip_check (GTask      *task,
                         const char *id,
                         const char *title,
                         const char *reason);
void ps_diag_start_check (GTask      *task,
                          const char *id,
                          const char *title);
gboolean ps_diag_stop_if_cancelled (GTask *task);

/* ps-diagnostics-timing.c */
void ps_diag_check_clock (GTask *task);
void ps_diag_check_latency (GTask *task);


G_END_DECLS

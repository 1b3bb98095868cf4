/* ps-url.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PS_URL_ERROR (ps_url_error_quark ())

/**
 * PsUrlError:
 * @PS_URL_ERROR_INVALID: the text is not a usable http or https URL
 * @PS_URL_ERROR_CREDENTIALS: the URL carries a user name or password where
 *   none may be
 *
 * Errors about a URL. Their messages never quote the URL.
 */
typedef enum
{
  PS_URL_ERROR_INVALID,
  PS_URL_ERROR_CREDENTIALS,
} PsUrlError;

GQuark    ps_url_error_quark       (void);
GUri     *ps_url_parse             (const char  *text,
                                    GError     **error);
gboolean  ps_url_has_userinfo      (const char  *text);
gboolean  ps_url_normalize_server  (const char  *text,
                                    char       **normalized,
                                    gboolean    *is_insecure_http,
                                    GError     **error);
char     *ps_url_redact            (const char  *text);
char     *ps_url_strip_credentials (const char  *text);
gboolean  ps_url_text_has_password (const char  *text);
char     *ps_url_redact_text       (const char  *text);

G_END_DECLS

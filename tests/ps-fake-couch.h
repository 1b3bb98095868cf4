/* ps-fake-couch.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _PsFakeCouch PsFakeCouch;

PsFakeCouch *ps_fake_couch_new            (void);
void         ps_fake_couch_free           (PsFakeCouch *fake);
char        *ps_fake_couch_url            (PsFakeCouch *fake,
                                           const char  *path);
void         ps_fake_couch_route          (PsFakeCouch *fake,
                                           const char  *method,
                                           const char  *path,
                                           guint        status,
                                           const char  *content_type,
                                           const char  *body);
void         ps_fake_couch_route_redirect (PsFakeCouch *fake,
                                           const char  *method,
                                           const char  *path,
                                           guint        status,
                                           const char  *location);
void         ps_fake_couch_route_login    (PsFakeCouch *fake,
                                           const char  *cookie_value);
void         ps_fake_couch_route_stream   (PsFakeCouch *fake,
                                           const char  *method,
                                           const char  *path,
                                           const char  *head,
                                           const char  *repeat,
                                           guint64      total,
                                           gboolean     declare_length);
guint64      ps_fake_couch_get_streamed   (PsFakeCouch *fake);
void         ps_fake_couch_fail_next      (PsFakeCouch *fake,
                                           guint        count,
                                           guint        status);
void         ps_fake_couch_set_delay      (PsFakeCouch *fake,
                                           guint        milliseconds);
void         ps_fake_couch_require_auth   (PsFakeCouch *fake,
                                           const char  *user,
                                           const char  *password,
                                           gboolean     send_challenge);
guint        ps_fake_couch_count_requests (PsFakeCouch *fake,
                                           const char  *method,
                                           const char  *path);
const char  *ps_fake_couch_last_authorization (PsFakeCouch *fake);
const char  *ps_fake_couch_last_cookie        (PsFakeCouch *fake);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PsFakeCouch, ps_fake_couch_free)

G_END_DECLS

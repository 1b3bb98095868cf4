/* ps-test-couch-server.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ps-test-peer.h"

G_BEGIN_DECLS

typedef struct _PsTestCouchServer PsTestCouchServer;

gboolean           ps_test_couch_skip_if_absent      (void);
PsTestCouchServer *ps_test_couch_server_new          (guint               index);
void               ps_test_couch_server_free         (PsTestCouchServer  *server);
PsTestPeer        *ps_test_couch_server_get_peer     (PsTestCouchServer  *server);
const char        *ps_test_couch_server_get_url      (PsTestCouchServer  *server);
const char        *ps_test_couch_server_get_user     (PsTestCouchServer  *server);
const char        *ps_test_couch_server_get_password (PsTestCouchServer  *server);
char              *ps_test_couch_server_db_url       (PsTestCouchServer  *server,
                                                      const char         *db);
void               ps_test_couch_server_fresh_db     (PsTestCouchServer  *server,
                                                      const char         *db);
void               ps_test_couch_server_set_config   (PsTestCouchServer  *server,
                                                      const char         *section,
                                                      const char         *key,
                                                      const char         *value);
void               ps_test_couch_server_reset_config (PsTestCouchServer  *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PsTestCouchServer, ps_test_couch_server_free)

G_END_DECLS

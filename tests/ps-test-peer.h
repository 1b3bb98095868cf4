/* ps-test-peer.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _PsTestPeer PsTestPeer;

PsTestPeer *ps_test_peer_new                 (gboolean     in_memory);
PsTestPeer *ps_test_peer_new_with_admin      (gboolean     in_memory,
                                              const char  *user,
                                              const char  *password);
PsTestPeer *ps_test_peer_new_for_server      (const char  *url,
                                              const char  *user,
                                              const char  *password);
void        ps_test_peer_stop                (PsTestPeer  *peer);
void        ps_test_peer_start               (PsTestPeer  *peer);
void        ps_test_peer_free                (PsTestPeer  *peer);
guint16     ps_test_peer_get_port            (PsTestPeer  *peer);
GPid        ps_test_peer_get_pid             (PsTestPeer  *peer);
const char *ps_test_peer_get_url             (PsTestPeer  *peer);
const char *ps_test_peer_get_dir             (PsTestPeer  *peer);
char       *ps_test_peer_db_url              (PsTestPeer  *peer,
                                              const char  *db);
void        ps_test_peer_assert_alive        (PsTestPeer  *peer);
JsonNode   *ps_test_peer_request             (PsTestPeer  *peer,
                                              const char  *method,
                                              const char  *path,
                                              JsonNode    *body,
                                              guint       *status);
void        ps_test_peer_create_db           (PsTestPeer  *peer,
                                              const char  *db);
void        ps_test_peer_put_docs            (PsTestPeer  *peer,
                                              const char  *db,
                                              JsonArray   *docs,
                                              gboolean     new_edits);
void        ps_test_peer_put_records         (PsTestPeer  *peer,
                                              const char  *db,
                                              GPtrArray   *records);
char       *ps_test_peer_rev_tree_signature  (PsTestPeer  *peer,
                                              const char  *db,
                                              const char  *doc_id);
GHashTable *ps_test_peer_rev_trees           (PsTestPeer  *peer,
                                              const char  *db);
void        ps_test_assert_same_rev_trees    (PsTestPeer  *a,
                                              const char  *db_a,
                                              PsTestPeer  *b,
                                              const char  *db_b);
void        ps_test_peer_put_named_doc       (PsTestPeer  *peer,
                                              const char  *db,
                                              const char  *id,
                                              const char  *name);
gboolean    ps_test_peer_has_doc             (PsTestPeer  *peer,
                                              const char  *db,
                                              const char  *id);
guint       ps_test_peer_count_conflicts     (PsTestPeer  *peer,
                                              const char  *db);

guint       ps_test_soak_seconds             (guint        default_seconds);
void        ps_test_remove_dir               (const char  *path);
void        ps_test_print_stack_on_crash     (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PsTestPeer, ps_test_peer_free)

G_END_DECLS

/* ps-test-keyring.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

void ps_test_keyring_store (const char *server_id,
                            const char *description,
                            const char *password);

G_END_DECLS

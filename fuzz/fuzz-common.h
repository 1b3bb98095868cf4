/* fuzz-common.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

G_BEGIN_DECLS

int LLVMFuzzerInitialize   (int           *argc,
                            char        ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static inline void
ps_fuzz_on_log (const char     *domain,
                GLogLevelFlags  level,
                const char     *message,
                gpointer        user_data)
{
  g_printerr ("%s: %s\n", domain != NULL ? domain : "(no domain)", message);
  /* abort(), not GLib's breakpoint trap, which libFuzzer does not catch. */
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    abort ();
}

/* A critical or a warning is a bug in the code under test: make it a
 * crash the fuzzer reports, with its input.
 */
static inline void
ps_fuzz_make_warnings_fatal (void)
{
  g_log_set_default_handler (ps_fuzz_on_log, NULL);
}

G_END_DECLS

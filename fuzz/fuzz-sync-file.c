/* fuzz-sync-file.c: what anyone who hands over a sync file controls before
 * its passphrase is typed: the header, read to open the file, and the
 * trailer, read for its summary.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is a whole file.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "ps-sync-file.h"

/* The reader takes a path: one file, rewritten for each input. */
static char *path;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  int fd;

  ps_fuzz_make_warnings_fatal ();
  fd = g_file_open_tmp ("fuzz-sync-file-XXXXXX", &path, NULL);
  g_assert (fd >= 0);
  close (fd);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(PsSyncFileReader) reader = NULL;
  g_autoptr(JsonObject) summary = NULL;
  g_autoptr(GError) error = NULL;

  /* No fsync: thousands of inputs a second. */
  if (!g_file_set_contents_full (path, (const char *) data, size, G_FILE_SET_CONTENTS_NONE,
                                 0600, NULL))
    abort ();

  reader = ps_sync_file_reader_open (path, &error);
  g_assert ((reader == NULL) == (error != NULL));
  if (reader != NULL)
    g_assert (ps_sync_file_reader_get_header (reader) != NULL);
  g_clear_error (&error);

  summary = ps_sync_file_read_summary (path, &error);
  g_assert ((summary == NULL) == (error != NULL));
  /* What needs the passphrase never shows without it. */
  if (summary != NULL)
    g_assert (!json_object_has_member (summary, "kdf") &&
              !json_object_has_member (summary, "key_check"));
  return 0;
}

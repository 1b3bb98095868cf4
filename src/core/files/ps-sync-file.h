/* ps-sync-file.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define PS_SYNC_FILE_ERROR (ps_sync_file_error_quark ())

/**
 * PsSyncFileError:
 * @PS_SYNC_FILE_ERROR_FAILED: the file could not be read or written
 * @PS_SYNC_FILE_ERROR_NOT_SYNC_FILE: the file is not a Primero Sync file
 * @PS_SYNC_FILE_ERROR_UNSUPPORTED: the file was made by a newer version
 * @PS_SYNC_FILE_ERROR_WRONG_PASSPHRASE: the passphrase does not open the file
 * @PS_SYNC_FILE_ERROR_DAMAGED: the file was changed or cut short
 * @PS_SYNC_FILE_ERROR_REFUSED: the file names a database or a document that
 *   no sync file may write
 * @PS_SYNC_FILE_ERROR_WEAK_PASSPHRASE: the passphrase is too easy to guess
 *
 * Errors from reading or writing a sync file.
 */
typedef enum
{
  PS_SYNC_FILE_ERROR_FAILED,
  PS_SYNC_FILE_ERROR_NOT_SYNC_FILE,
  PS_SYNC_FILE_ERROR_UNSUPPORTED,
  PS_SYNC_FILE_ERROR_WRONG_PASSPHRASE,
  PS_SYNC_FILE_ERROR_DAMAGED,
  PS_SYNC_FILE_ERROR_REFUSED,
  PS_SYNC_FILE_ERROR_WEAK_PASSPHRASE,
} PsSyncFileError;

/**
 * PsSyncFileItem:
 * @PS_SYNC_FILE_ITEM_END: no more items
 * @PS_SYNC_FILE_ITEM_DATABASE: the name of the database the next revisions belong to
 * @PS_SYNC_FILE_ITEM_REVISION: one revision as JSON, with its history and attachments
 * @PS_SYNC_FILE_ITEM_DATABASE_END: the counts of the database, as JSON
 *
 * What the encrypted part of a sync file holds, in order.
 */
typedef enum
{
  PS_SYNC_FILE_ITEM_END = 0,
  PS_SYNC_FILE_ITEM_DATABASE = 'D',
  PS_SYNC_FILE_ITEM_REVISION = 'R',
  PS_SYNC_FILE_ITEM_DATABASE_END = 'E',
} PsSyncFileItem;

typedef struct _PsSyncFileWriter PsSyncFileWriter;
typedef struct _PsSyncFileReader PsSyncFileReader;

GQuark            ps_sync_file_error_quark        (void);
JsonObject       *ps_sync_file_read_summary       (const char         *path,
                                                   GError            **error);
gboolean          ps_sync_file_check_passphrase   (const char         *passphrase,
                                                   GError            **error);
gboolean          ps_sync_file_is_record_database (const char         *name);
gboolean          ps_sync_file_is_record_id       (const char         *id);

/* Tests only: see the function's documentation. */
void              ps_sync_file_set_kdf_limits_for_tests (guint64        opslimit,
                                                         gsize          memlimit);

PsSyncFileWriter *ps_sync_file_writer_new         (const char         *path,
                                                   const char         *passphrase,
                                                   JsonObject         *header,
                                                   GError            **error);
gboolean          ps_sync_file_writer_add         (PsSyncFileWriter   *writer,
                                                   PsSyncFileItem      item,
                                                   const char         *data,
                                                   gsize               length,
                                                   GError            **error);
gboolean          ps_sync_file_writer_finish      (PsSyncFileWriter   *writer,
                                                   JsonObject         *trailer,
                                                   GError            **error);
void              ps_sync_file_writer_free        (PsSyncFileWriter   *writer);

PsSyncFileReader *ps_sync_file_reader_open        (const char         *path,
                                                   GError            **error);
JsonObject       *ps_sync_file_reader_get_header  (PsSyncFileReader   *reader);
gboolean          ps_sync_file_reader_unlock      (PsSyncFileReader   *reader,
                                                   const char         *passphrase,
                                                   GError            **error);
gboolean          ps_sync_file_reader_next        (PsSyncFileReader   *reader,
                                                   PsSyncFileItem     *item,
                                                   GBytes            **data,
                                                   GError            **error);
JsonObject       *ps_sync_file_reader_get_trailer (PsSyncFileReader   *reader);
void              ps_sync_file_reader_free        (PsSyncFileReader   *reader);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PsSyncFileWriter, ps_sync_file_writer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PsSyncFileReader, ps_sync_file_reader_free)

G_END_DECLS

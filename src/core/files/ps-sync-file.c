/* ps-sync-file.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The file that carries records where no network goes (a USB stick).
 *
 *   "PRIMSYNC" version(1 byte) header-length(u32) header(JSON)
 *   secretstream-header(24 bytes)
 *   chunks: length(u32) ciphertext
 *   0(u32) trailer-length(u32) trailer(JSON) length(u32) final-ciphertext
 *
 * Integers are big-endian. The header and the trailer are plain JSON that
 * name nothing sensitive, so a file can be described without its
 * passphrase; both are authenticated: the header as additional data of the
 * first chunk, the trailer as that of the final one (tagged FINAL, so a file
 * cut short is noticed). The key comes from the passphrase through Argon2id
 * with the salt and the costs in the header: new files use libsodium's
 * MODERATE costs, older ones said INTERACTIVE and still open. The chunks
 * decrypt to a zlib stream of items: type(1 byte) length(u32) bytes (see
 * #PsSyncFileItem).
 *
 * Everything read from a file is someone else's: the header and the trailer
 * are parsed behind the size cap and the depth check that replication puts
 * on answers, and an item is never longer than an answer may be.
 */

#define G_LOG_DOMAIN "ps-sync-file"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <pwquality.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "ps-json.h"
#include "ps-sync-file.h"

#define MAGIC            "PRIMSYNC"
#define MAGIC_LENGTH     8
#define FORMAT_VERSION   1
#define CHUNK_SIZE       (64 * 1024)
#define MAX_HEADER       (256 * 1024)
/* The largest answer replication accepts; an export writes no more. */
#define MAX_ITEM         (64 * 1024 * 1024)
#define KEY_CHECK_LENGTH 16
#define KEY_CHECK_INPUT  "primero-sync-file key check"
#define SS_HEADER_LENGTH crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES        crypto_secretstream_xchacha20poly1305_ABYTES
#define KEY_LENGTH       crypto_secretstream_xchacha20poly1305_KEYBYTES

typedef crypto_secretstream_xchacha20poly1305_state StreamState;

struct _PsSyncFileWriter
{
  char        *path;
  char        *tmp_path;
  int          fd;
  StreamState  state;
  GByteArray  *pending_ad;    /* the header, until the first chunk */
  GConverter  *compressor;
  guint8      *chunk;
  gsize        chunk_length;
  gboolean     finished;
};

struct _PsSyncFileReader
{
  GInputStream *input;
  JsonObject   *header;
  GBytes       *header_bytes;
  guint8        ss_header[SS_HEADER_LENGTH];
  guint8        key[KEY_LENGTH];
  gboolean      unlocked;
  StreamState   state;
  gboolean      first_chunk;
  gboolean      final_seen;
  GBytes       *trailer_bytes;
  JsonObject   *trailer;
  GConverter   *decompressor;
  gboolean      decompressed_all;
  GByteArray   *compressed;
  gsize         compressed_offset;
  GByteArray   *plain;
  gsize         plain_offset;
};

G_DEFINE_QUARK (ps-sync-file-error-quark, ps_sync_file_error)

/* Zero: libsodium's MODERATE costs. Only tests lower them. */
static guint64 test_opslimit;
static gsize test_memlimit;

/* Helpers */

static void
put_u32 (guint8  *out,
         guint32  value)
{
  value = GUINT32_TO_BE (value);
  memcpy (out, &value, 4);
}

static guint32
get_u32 (const guint8 *in)
{
  guint32 value;

  memcpy (&value, in, 4);
  return GUINT32_FROM_BE (value);
}

static gboolean
set_damaged (GError **error)
{
  g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_DAMAGED,
                       _("The file is damaged or incomplete: it was changed or cut short, "
                         "perhaps while it was copied"));
  return FALSE;
}

static gboolean
ensure_sodium (GError **error)
{
  if (sodium_init () < 0)
    {
      g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_FAILED,
                           _("The encryption library could not be started"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
derive_key (const char   *passphrase,
            const guint8 *salt,
            guint64       opslimit,
            gsize         memlimit,
            guint8       *key,
            GError      **error)
{
  if (crypto_pwhash (key, KEY_LENGTH, passphrase, strlen (passphrase), salt,
                     opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
      g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_FAILED,
                           _("Not enough memory to derive the key from the passphrase"));
      return FALSE;
    }
  return TRUE;
}

/* Tells a wrong passphrase from a damaged file without decrypting anything. */
static void
compute_key_check (const guint8 *key,
                   guint8       *check)
{
  crypto_generichash (check, KEY_CHECK_LENGTH, (const guint8 *) KEY_CHECK_INPUT,
                      strlen (KEY_CHECK_INPUT), key, KEY_LENGTH);
}

static GBytes *
object_to_bytes (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  gsize length;
  char *text = json_to_string (node, FALSE);

  length = strlen (text);
  return g_bytes_new_take (text, length);
}

/* Writer */

static gboolean
write_all (PsSyncFileWriter  *writer,
           const guint8      *data,
           gsize              length,
           GError           **error)
{
  while (length > 0)
    {
      gssize written = write (writer->fd, data, length);

      if (written < 0 && errno == EINTR)
        continue;
      if (written < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Could not write %s: %s"), writer->path, g_strerror (saved));
          return FALSE;
        }
      data += written;
      length -= written;
    }
  return TRUE;
}

static gboolean
write_u32 (PsSyncFileWriter  *writer,
           guint32            value,
           GError           **error)
{
  guint8 bytes[4];

  put_u32 (bytes, value);
  return write_all (writer, bytes, 4, error);
}

static gboolean
emit_chunk (PsSyncFileWriter  *writer,
            GBytes            *trailer,
            GError           **error)
{
  g_autoptr(GByteArray) ad = g_byte_array_new ();
  g_autofree guint8 *cipher = g_malloc (writer->chunk_length + SS_ABYTES);
  unsigned long long cipher_length;
  guint8 tag = trailer != NULL ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                               : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;

  if (writer->pending_ad != NULL)
    {
      g_byte_array_append (ad, writer->pending_ad->data, writer->pending_ad->len);
      g_clear_pointer (&writer->pending_ad, g_byte_array_unref);
    }
  if (trailer != NULL)
    g_byte_array_append (ad, g_bytes_get_data (trailer, NULL), g_bytes_get_size (trailer));

  crypto_secretstream_xchacha20poly1305_push (&writer->state, cipher, &cipher_length,
                                              writer->chunk, writer->chunk_length,
                                              ad->data, ad->len, tag);
  sodium_memzero (writer->chunk, writer->chunk_length);
  writer->chunk_length = 0;

  return write_u32 (writer, cipher_length, error) &&
         write_all (writer, cipher, cipher_length, error);
}

static gboolean
compress (PsSyncFileWriter  *writer,
          const guint8      *data,
          gsize              length,
          gboolean           at_end,
          GError           **error)
{
  gsize offset = 0;

  while (offset < length || at_end)
    {
      gsize space = CHUNK_SIZE - writer->chunk_length;
      gsize read = 0;
      gsize written = 0;
      GConverterResult result;

      result = g_converter_convert (writer->compressor, data + offset, length - offset,
                                    writer->chunk + writer->chunk_length, space,
                                    at_end ? G_CONVERTER_INPUT_AT_END : G_CONVERTER_NO_FLAGS,
                                    &read, &written, error);
      if (result == G_CONVERTER_ERROR)
        return FALSE;
      offset += read;
      writer->chunk_length += written;
      if (writer->chunk_length == CHUNK_SIZE && !emit_chunk (writer, NULL, error))
        return FALSE;
      if (result == G_CONVERTER_FINISHED)
        break;
    }
  return TRUE;
}

/**
 * ps_sync_file_writer_new:
 * @path: the file to make; it appears only when ps_sync_file_writer_finish()
 *   succeeds
 * @passphrase: what the file is encrypted with
 * @header: what anyone may read about the file; the format, the salt and a
 *   key check are added to it
 * @error: return location for a #GError
 *
 * Starts a sync file in a temporary file, readable only by its owner, in the
 * same directory as @path. The key derivation takes about a second and
 * 256 MiB: call it from a thread.
 *
 * Returns: (transfer full) (nullable): the writer
 */
PsSyncFileWriter *
ps_sync_file_writer_new (const char  *path,
                         const char  *passphrase,
                         JsonObject  *header,
                         GError     **error)
{
  g_autoptr(PsSyncFileWriter) writer = NULL;
  g_autoptr(GBytes) json = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *salt_text = NULL;
  g_autofree char *check_text = NULL;
  JsonObject *kdf;
  guint8 salt[crypto_pwhash_SALTBYTES];
  guint8 key[KEY_LENGTH];
  guint8 check[KEY_CHECK_LENGTH];
  guint8 ss_header[SS_HEADER_LENGTH];
  guint8 start[MAGIC_LENGTH + 5];
  guint64 opslimit = test_opslimit != 0 ? test_opslimit : crypto_pwhash_OPSLIMIT_MODERATE;
  gsize memlimit = test_memlimit != 0 ? test_memlimit : crypto_pwhash_MEMLIMIT_MODERATE;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (passphrase != NULL, NULL);
  g_return_val_if_fail (header != NULL, NULL);

  if (!ensure_sodium (error))
    return NULL;

  randombytes_buf (salt, sizeof salt);
  if (!derive_key (passphrase, salt, opslimit, memlimit, key, error))
    return NULL;
  compute_key_check (key, check);

  salt_text = g_base64_encode (salt, sizeof salt);
  check_text = g_base64_encode (check, sizeof check);
  kdf = json_object_new ();
  json_object_set_string_member (kdf, "algorithm", "argon2id13");
  json_object_set_string_member (kdf, "salt", salt_text);
  json_object_set_int_member (kdf, "opslimit", opslimit);
  json_object_set_int_member (kdf, "memlimit", memlimit);
  json_object_set_string_member (header, "format", "primero-sync-file");
  json_object_set_int_member (header, "version", FORMAT_VERSION);
  json_object_set_object_member (header, "kdf", kdf);
  json_object_set_string_member (header, "key_check", check_text);
  json = object_to_bytes (header);

  writer = g_new0 (PsSyncFileWriter, 1);
  writer->fd = -1;
  writer->path = g_strdup (path);
  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  writer->tmp_path = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  writer->fd = g_mkstemp_full (writer->tmp_path, O_WRONLY | O_CLOEXEC, 0600);
  if (writer->fd < 0)
    {
      int saved = errno;

      g_clear_pointer (&writer->tmp_path, g_free);
      sodium_memzero (key, sizeof key);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not create a file in %s: %s"), dir, g_strerror (saved));
      return NULL;
    }

  crypto_secretstream_xchacha20poly1305_init_push (&writer->state, ss_header, key);
  sodium_memzero (key, sizeof key);

  memcpy (start, MAGIC, MAGIC_LENGTH);
  start[MAGIC_LENGTH] = FORMAT_VERSION;
  put_u32 (start + MAGIC_LENGTH + 1, g_bytes_get_size (json));
  writer->pending_ad = g_byte_array_new ();
  g_byte_array_append (writer->pending_ad, start, sizeof start);
  g_byte_array_append (writer->pending_ad, g_bytes_get_data (json, NULL), g_bytes_get_size (json));
  g_byte_array_append (writer->pending_ad, ss_header, sizeof ss_header);
  if (!write_all (writer, writer->pending_ad->data, writer->pending_ad->len, error))
    return NULL;

  writer->compressor = G_CONVERTER (g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 6));
  writer->chunk = g_malloc (CHUNK_SIZE);

  return g_steal_pointer (&writer);
}

/**
 * ps_sync_file_writer_add:
 * @writer: a #PsSyncFileWriter
 * @item: what @data is
 * @data: the item's bytes
 * @length: their length
 * @error: return location for a #GError
 *
 * Compresses and encrypts one item; only a bounded amount stays in memory.
 *
 * Returns: whether the item was written
 */
gboolean
ps_sync_file_writer_add (PsSyncFileWriter  *writer,
                         PsSyncFileItem     item,
                         const char        *data,
                         gsize              length,
                         GError           **error)
{
  guint8 prefix[5];

  g_return_val_if_fail (writer != NULL && !writer->finished, FALSE);
  g_return_val_if_fail (item != PS_SYNC_FILE_ITEM_END, FALSE);

  if (length > MAX_ITEM)
    {
      g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_FAILED,
                           _("A record is too large to be exported"));
      return FALSE;
    }

  prefix[0] = item;
  put_u32 (prefix + 1, length);
  return compress (writer, prefix, sizeof prefix, FALSE, error) &&
         compress (writer, (const guint8 *) data, length, FALSE, error);
}

/**
 * ps_sync_file_writer_finish:
 * @writer: a #PsSyncFileWriter
 * @trailer: what anyone may read about the contents (counts, no names)
 * @error: return location for a #GError
 *
 * Ends the stream, syncs the file to disk and gives it its name.
 *
 * Returns: whether the file is complete under its name
 */
gboolean
ps_sync_file_writer_finish (PsSyncFileWriter  *writer,
                            JsonObject        *trailer,
                            GError           **error)
{
  g_autoptr(GBytes) trailer_bytes = object_to_bytes (trailer);
  int fd;

  g_return_val_if_fail (writer != NULL && !writer->finished, FALSE);

  if (!compress (writer, NULL, 0, TRUE, error) ||
      !write_u32 (writer, 0, error) ||
      !write_u32 (writer, g_bytes_get_size (trailer_bytes), error) ||
      !write_all (writer, g_bytes_get_data (trailer_bytes, NULL),
                  g_bytes_get_size (trailer_bytes), error) ||
      !emit_chunk (writer, trailer_bytes, error))
    return FALSE;

  if (fsync (writer->fd) != 0 || g_close (writer->fd, NULL) == FALSE)
    {
      int saved = errno;

      writer->fd = -1;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not write %s: %s"), writer->path, g_strerror (saved));
      return FALSE;
    }
  writer->fd = -1;

  if (g_rename (writer->tmp_path, writer->path) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not name the file %s: %s"), writer->path, g_strerror (saved));
      return FALSE;
    }
  g_clear_pointer (&writer->tmp_path, g_free);
  writer->finished = TRUE;

  /* Make the rename itself durable. */
  {
    g_autofree char *dir = g_path_get_dirname (writer->path);

    fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
      {
        fsync (fd);
        close (fd);
      }
  }

  return TRUE;
}

/**
 * ps_sync_file_writer_free:
 * @writer: a #PsSyncFileWriter
 *
 * Frees the writer; an unfinished file is removed.
 */
void
ps_sync_file_writer_free (PsSyncFileWriter *writer)
{
  if (writer == NULL)
    return;

  if (writer->fd >= 0)
    close (writer->fd);
  if (writer->tmp_path != NULL)
    g_unlink (writer->tmp_path);
  sodium_memzero (&writer->state, sizeof writer->state);
  if (writer->chunk != NULL)
    sodium_memzero (writer->chunk, CHUNK_SIZE);
  g_free (writer->chunk);
  g_clear_object (&writer->compressor);
  g_clear_pointer (&writer->pending_ad, g_byte_array_unref);
  g_free (writer->tmp_path);
  g_free (writer->path);
  g_free (writer);
}

/* Reader */

static gboolean
read_exact (PsSyncFileReader  *reader,
            guint8            *buffer,
            gsize              length,
            gboolean          *at_eof,
            GError           **error)
{
  gsize n_read = 0;

  /* An empty header or trailer leaves @buffer NULL (g_malloc (0)); there is
   * nothing to read, and the parse says it is damaged.
   */
  if (length == 0)
    return TRUE;
  if (!g_input_stream_read_all (reader->input, buffer, length, &n_read, NULL, error))
    return FALSE;
  if (at_eof != NULL)
    *at_eof = n_read == 0;
  if (n_read != length)
    return set_damaged (error);
  return TRUE;
}

static gboolean
read_header (PsSyncFileReader  *reader,
             GError           **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autofree guint8 *json = NULL;
  g_autoptr(GBytes) header_json = NULL;
  guint8 start[MAGIC_LENGTH + 5];
  gsize n_read = 0;
  guint32 length;

  if (!g_input_stream_read_all (reader->input, start, sizeof start, &n_read, NULL, error))
    return FALSE;
  if (n_read != sizeof start || memcmp (start, MAGIC, MAGIC_LENGTH) != 0)
    {
      g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_NOT_SYNC_FILE,
                           _("This is not a Primero Sync file"));
      return FALSE;
    }
  if (start[MAGIC_LENGTH] != FORMAT_VERSION)
    {
      g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_UNSUPPORTED,
                           _("This file was made by a newer version of Primero Sync"));
      return FALSE;
    }

  length = get_u32 (start + MAGIC_LENGTH + 1);
  if (length > MAX_HEADER)
    return set_damaged (error);
  json = g_malloc (length);
  if (!read_exact (reader, json, length, NULL, error) ||
      !read_exact (reader, reader->ss_header, SS_HEADER_LENGTH, NULL, error))
    return FALSE;

  header_json = g_bytes_new_static (json, length);
  reader->header = ps_json_parse_untrusted_object (header_json, MAX_HEADER, NULL);
  if (reader->header == NULL)
    return set_damaged (error);

  g_byte_array_append (bytes, start, sizeof start);
  g_byte_array_append (bytes, json, length);
  g_byte_array_append (bytes, reader->ss_header, SS_HEADER_LENGTH);
  reader->header_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
  return TRUE;
}

/**
 * ps_sync_file_reader_open:
 * @path: a sync file
 * @error: return location for a #GError
 *
 * Opens a sync file and reads its header; nothing is decrypted yet.
 *
 * Returns: (transfer full) (nullable): the reader
 */
PsSyncFileReader *
ps_sync_file_reader_open (const char  *path,
                          GError     **error)
{
  g_autoptr(PsSyncFileReader) reader = g_new0 (PsSyncFileReader, 1);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  g_return_val_if_fail (path != NULL, NULL);

  reader->input = G_INPUT_STREAM (g_file_read (file, NULL, error));
  if (reader->input == NULL || !read_header (reader, error))
    return NULL;

  return g_steal_pointer (&reader);
}

/**
 * ps_sync_file_reader_get_header:
 * @reader: a #PsSyncFileReader
 *
 * Returns: (transfer none): the header, not yet authenticated
 */
JsonObject *
ps_sync_file_reader_get_header (PsSyncFileReader *reader)
{
  g_return_val_if_fail (reader != NULL, NULL);
  return reader->header;
}

static gboolean
get_kdf (JsonObject  *header,
         guint8      *salt,
         guint64     *opslimit,
         gsize       *memlimit,
         guint8      *check,
         GError     **error)
{
  JsonObject *kdf = ps_json_get_object (header, "kdf");
  const char *salt_text;
  const char *check_text;
  g_autofree guint8 *salt_bytes = NULL;
  g_autofree guint8 *check_bytes = NULL;
  gsize salt_length = 0;
  gsize check_length = 0;
  gint64 ops;
  gint64 mem;

  if (kdf == NULL || ps_json_get_string (header, "key_check") == NULL ||
      ps_json_get_string (kdf, "salt") == NULL)
    return set_damaged (error);
  if (g_strcmp0 (ps_json_get_string (kdf, "algorithm"), "argon2id13") != 0)
    {
      g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_UNSUPPORTED,
                           _("This file was made by a newer version of Primero Sync"));
      return FALSE;
    }

  salt_text = ps_json_get_string (kdf, "salt");
  check_text = ps_json_get_string (header, "key_check");
  salt_bytes = g_base64_decode (salt_text, &salt_length);
  check_bytes = g_base64_decode (check_text, &check_length);
  ops = json_object_get_int_member_with_default (kdf, "opslimit", 0);
  mem = json_object_get_int_member_with_default (kdf, "memlimit", 0);

  /* A hostile file must not make us spend a gigabyte or an hour. */
  if (salt_length != crypto_pwhash_SALTBYTES || check_length != KEY_CHECK_LENGTH ||
      ops < crypto_pwhash_OPSLIMIT_MIN || ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
      mem < (gint64) crypto_pwhash_MEMLIMIT_MIN || mem > (gint64) crypto_pwhash_MEMLIMIT_MODERATE)
    return set_damaged (error);

  memcpy (salt, salt_bytes, salt_length);
  memcpy (check, check_bytes, check_length);
  *opslimit = ops;
  *memlimit = mem;
  return TRUE;
}

static void
reset_stream (PsSyncFileReader *reader)
{
  crypto_secretstream_xchacha20poly1305_init_pull (&reader->state, reader->ss_header, reader->key);
  reader->first_chunk = TRUE;
  reader->final_seen = FALSE;
  reader->decompressed_all = FALSE;
  g_clear_pointer (&reader->trailer_bytes, g_bytes_unref);
  g_clear_pointer (&reader->trailer, json_object_unref);
  g_clear_object (&reader->decompressor);
  reader->decompressor = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB));
  g_clear_pointer (&reader->compressed, g_byte_array_unref);
  g_clear_pointer (&reader->plain, g_byte_array_unref);
  reader->compressed = g_byte_array_new ();
  reader->plain = g_byte_array_new ();
  reader->compressed_offset = 0;
  reader->plain_offset = 0;
}

/**
 * ps_sync_file_reader_unlock:
 * @reader: a #PsSyncFileReader
 * @passphrase: the file's passphrase
 * @error: return location for a #GError
 *
 * Derives the key and checks it against the header. May be called again to
 * read the file from the start once more.
 *
 * Returns: whether the passphrase opens the file
 */
gboolean
ps_sync_file_reader_unlock (PsSyncFileReader  *reader,
                            const char        *passphrase,
                            GError           **error)
{
  guint8 salt[crypto_pwhash_SALTBYTES];
  guint8 expected[KEY_CHECK_LENGTH];
  guint8 check[KEY_CHECK_LENGTH];
  guint64 opslimit;
  gsize memlimit;

  g_return_val_if_fail (reader != NULL, FALSE);

  if (!reader->unlocked)
    {
      g_return_val_if_fail (passphrase != NULL, FALSE);

      if (!ensure_sodium (error) ||
          !get_kdf (reader->header, salt, &opslimit, &memlimit, expected, error) ||
          !derive_key (passphrase, salt, opslimit, memlimit, reader->key, error))
        return FALSE;

      compute_key_check (reader->key, check);
      if (sodium_memcmp (check, expected, KEY_CHECK_LENGTH) != 0)
        {
          sodium_memzero (reader->key, sizeof reader->key);
          g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_WRONG_PASSPHRASE,
                               _("The passphrase is wrong, or the file was not made with "
                                 "this passphrase"));
          return FALSE;
        }
      reader->unlocked = TRUE;
    }

  if (!g_seekable_seek (G_SEEKABLE (reader->input), g_bytes_get_size (reader->header_bytes),
                        G_SEEK_SET, NULL, error))
    return FALSE;
  reset_stream (reader);
  return TRUE;
}

static gboolean
read_trailer (PsSyncFileReader  *reader,
              GError           **error)
{
  g_autofree guint8 *json = NULL;
  guint8 bytes[4];
  guint32 length;

  if (reader->trailer_bytes != NULL || !read_exact (reader, bytes, 4, NULL, error))
    return reader->trailer_bytes != NULL ? set_damaged (error) : FALSE;
  length = get_u32 (bytes);
  if (length > MAX_HEADER)
    return set_damaged (error);
  json = g_malloc (length);
  if (!read_exact (reader, json, length, NULL, error))
    return FALSE;
  reader->trailer_bytes = g_bytes_new_take (g_steal_pointer (&json), length);
  return TRUE;
}

static gboolean
read_chunk (PsSyncFileReader  *reader,
            GError           **error)
{
  g_autoptr(GByteArray) ad = g_byte_array_new ();
  g_autofree guint8 *cipher = NULL;
  guint8 plain[CHUNK_SIZE];
  unsigned long long plain_length;
  guint8 bytes[4];
  guint8 tag;
  guint8 extra;
  guint32 length;

  if (reader->final_seen)
    return set_damaged (error);
  if (!read_exact (reader, bytes, 4, NULL, error))
    return FALSE;
  length = get_u32 (bytes);
  if (length == 0)
    {
      if (!read_trailer (reader, error) || !read_exact (reader, bytes, 4, NULL, error))
        return FALSE;
      length = get_u32 (bytes);
    }
  if (length < SS_ABYTES || length > CHUNK_SIZE + SS_ABYTES)
    return set_damaged (error);

  cipher = g_malloc (length);
  if (!read_exact (reader, cipher, length, NULL, error))
    return FALSE;

  if (reader->first_chunk)
    g_byte_array_append (ad, g_bytes_get_data (reader->header_bytes, NULL),
                         g_bytes_get_size (reader->header_bytes));
  if (reader->trailer_bytes != NULL)
    g_byte_array_append (ad, g_bytes_get_data (reader->trailer_bytes, NULL),
                         g_bytes_get_size (reader->trailer_bytes));

  if (crypto_secretstream_xchacha20poly1305_pull (&reader->state, plain, &plain_length, &tag,
                                                  cipher, length, ad->data, ad->len) != 0)
    return set_damaged (error);
  reader->first_chunk = FALSE;

  if ((tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) != (reader->trailer_bytes != NULL))
    return set_damaged (error);

  if (reader->trailer_bytes != NULL)
    {
      gsize n_read = 0;

      /* Nothing may follow the final chunk. */
      if (!g_input_stream_read_all (reader->input, &extra, 1, &n_read, NULL, error))
        return FALSE;
      reader->trailer = ps_json_parse_untrusted_object (reader->trailer_bytes, MAX_HEADER, NULL);
      if (n_read != 0 || reader->trailer == NULL)
        return set_damaged (error);
      reader->final_seen = TRUE;
    }

  g_byte_array_append (reader->compressed, plain, plain_length);
  sodium_memzero (plain, sizeof plain);
  return TRUE;
}

static gsize
plain_available (PsSyncFileReader *reader)
{
  return reader->plain->len - reader->plain_offset;
}

/* Decrypts and decompresses until @needed bytes are ready or the stream ends. */
static gboolean
fill (PsSyncFileReader  *reader,
      gsize              needed,
      GError           **error)
{
  guint8 out[CHUNK_SIZE];

  while (plain_available (reader) < needed && !reader->decompressed_all)
    {
      gsize in_length = reader->compressed->len - reader->compressed_offset;
      gsize n_read = 0;
      gsize n_written = 0;
      g_autoptr(GError) local_error = NULL;
      GConverterResult result;

      if (in_length == 0 && !reader->final_seen)
        {
          if (!read_chunk (reader, error))
            return FALSE;
          continue;
        }

      result = g_converter_convert (reader->decompressor,
                                    reader->compressed->data + reader->compressed_offset,
                                    in_length, out, sizeof out,
                                    reader->final_seen ? G_CONVERTER_INPUT_AT_END
                                                       : G_CONVERTER_NO_FLAGS,
                                    &n_read, &n_written, &local_error);
      if (result == G_CONVERTER_ERROR)
        {
          if (!reader->final_seen &&
              g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
            {
              if (!read_chunk (reader, error))
                return FALSE;
              continue;
            }
          return set_damaged (error);
        }

      reader->compressed_offset += n_read;
      g_byte_array_append (reader->plain, out, n_written);
      if (reader->compressed_offset == reader->compressed->len)
        {
          g_byte_array_set_size (reader->compressed, 0);
          reader->compressed_offset = 0;
        }

      if (result == G_CONVERTER_FINISHED)
        reader->decompressed_all = TRUE;
      else if (n_read == 0 && n_written == 0)
        {
          /* No progress: more input is needed, and there must be some. */
          if (reader->final_seen || !read_chunk (reader, error))
            return reader->final_seen ? set_damaged (error) : FALSE;
        }
    }

  return TRUE;
}

/**
 * ps_sync_file_reader_next:
 * @reader: an unlocked #PsSyncFileReader
 * @item: (out): what came next; %PS_SYNC_FILE_ITEM_END at the end
 * @data: (out) (transfer full) (nullable): its bytes
 * @error: return location for a #GError
 *
 * Reads the next item. Each item is authenticated before it is returned,
 * but only the end proves that nothing was cut off: callers that must not
 * act on a damaged file read it to the end first.
 *
 * Returns: whether an item (or the verified end) was read
 */
gboolean
ps_sync_file_reader_next (PsSyncFileReader  *reader,
                          PsSyncFileItem    *item,
                          GBytes           **data,
                          GError           **error)
{
  const guint8 *start;
  guint32 length;

  g_return_val_if_fail (reader != NULL && reader->unlocked, FALSE);

  *data = NULL;
  if (!fill (reader, 5, error))
    return FALSE;

  if (plain_available (reader) == 0)
    {
      /* The zlib stream ended: only the final chunk, empty, may follow. */
      while (!reader->final_seen)
        {
          if (!read_chunk (reader, error))
            return FALSE;
        }
      if (reader->compressed->len != reader->compressed_offset)
        return set_damaged (error);
      *item = PS_SYNC_FILE_ITEM_END;
      return TRUE;
    }
  if (plain_available (reader) < 5)
    return set_damaged (error);

  start = reader->plain->data + reader->plain_offset;
  length = get_u32 (start + 1);
  if ((start[0] != PS_SYNC_FILE_ITEM_DATABASE && start[0] != PS_SYNC_FILE_ITEM_REVISION &&
       start[0] != PS_SYNC_FILE_ITEM_DATABASE_END) || length > MAX_ITEM)
    return set_damaged (error);

  if (!fill (reader, 5 + (gsize) length, error))
    return FALSE;
  if (plain_available (reader) < 5 + (gsize) length)
    return set_damaged (error);

  start = reader->plain->data + reader->plain_offset;
  *item = start[0];
  *data = g_bytes_new (start + 5, length);
  reader->plain_offset += 5 + length;

  if (reader->plain_offset > CHUNK_SIZE)
    {
      g_byte_array_remove_range (reader->plain, 0, reader->plain_offset);
      reader->plain_offset = 0;
    }

  return TRUE;
}

/**
 * ps_sync_file_reader_get_trailer:
 * @reader: a #PsSyncFileReader
 *
 * Returns: (transfer none) (nullable): the authenticated trailer, once the
 *   end was read
 */
JsonObject *
ps_sync_file_reader_get_trailer (PsSyncFileReader *reader)
{
  g_return_val_if_fail (reader != NULL, NULL);
  return reader->final_seen ? reader->trailer : NULL;
}

void
ps_sync_file_reader_free (PsSyncFileReader *reader)
{
  if (reader == NULL)
    return;

  sodium_memzero (reader->key, sizeof reader->key);
  sodium_memzero (&reader->state, sizeof reader->state);
  g_clear_object (&reader->input);
  g_clear_pointer (&reader->header, json_object_unref);
  g_clear_pointer (&reader->header_bytes, g_bytes_unref);
  g_clear_pointer (&reader->trailer_bytes, g_bytes_unref);
  g_clear_pointer (&reader->trailer, json_object_unref);
  g_clear_object (&reader->decompressor);
  g_clear_pointer (&reader->compressed, g_byte_array_unref);
  g_clear_pointer (&reader->plain, g_byte_array_unref);
  g_free (reader);
}

/**
 * ps_sync_file_read_summary:
 * @path: a sync file
 * @error: return location for a #GError
 *
 * Reads what a file says about itself without its passphrase: who made it,
 * when, for which peer, and how many records of which database it carries.
 * Only an import proves that this is what the file holds.
 *
 * Returns: (transfer full) (nullable): the header and the trailer's members,
 *   without the key derivation parameters
 */
static void
copy_members (JsonObject *to,
              JsonObject *from)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  json_object_iter_init (&iter, from);
  while (json_object_iter_next (&iter, &name, &node))
    {
      if (!g_str_equal (name, "kdf") && !g_str_equal (name, "key_check"))
        json_object_set_member (to, name, json_node_copy (node));
    }
}

JsonObject *
ps_sync_file_read_summary (const char  *path,
                           GError     **error)
{
  g_autoptr(PsSyncFileReader) reader = ps_sync_file_reader_open (path, error);
  g_autoptr(JsonObject) trailer = NULL;
  JsonObject *summary;
  guint8 bytes[4];
  guint32 length;

  if (reader == NULL)
    return NULL;

  /* Skip the chunks to the trailer: the file is never held in memory. */
  do
    {
      gssize skipped;

      if (!read_exact (reader, bytes, 4, NULL, error))
        return NULL;
      length = get_u32 (bytes);
      if (length > CHUNK_SIZE + SS_ABYTES)
        {
          set_damaged (error);
          return NULL;
        }
      skipped = g_input_stream_skip (reader->input, length, NULL, error);
      if (skipped < 0)
        return NULL;
      if (skipped != (gssize) length)
        {
          set_damaged (error);
          return NULL;
        }
    }
  while (length != 0);

  if (!read_trailer (reader, error))
    return NULL;
  trailer = ps_json_parse_untrusted_object (reader->trailer_bytes, MAX_HEADER, NULL);
  if (trailer == NULL)
    {
      set_damaged (error);
      return NULL;
    }

  summary = json_object_new ();
  copy_members (summary, reader->header);
  copy_members (summary, trailer);
  return summary;
}


/**
 * ps_sync_file_check_passphrase:
 * @passphrase: a passphrase for a new file
 * @error: return location for a #GError
 *
 * Whoever finds a file can try passphrases at leisure, so one that a
 * dictionary attack finds is refused, by the rules GNOME Settings applies
 * to passwords (libpwquality and the system's pwquality.conf).
 *
 * Returns: whether @passphrase is strong enough; if not, @error says why
 *   in plain words, %PS_SYNC_FILE_ERROR_WEAK_PASSPHRASE
 */
gboolean
ps_sync_file_check_passphrase (const char  *passphrase,
                               GError     **error)
{
  pwquality_settings_t *settings;
  char reason[PWQ_MAX_ERROR_MESSAGE_LEN];
  void *auxerror = NULL;
  int score;

  g_return_val_if_fail (passphrase != NULL, FALSE);

  settings = pwquality_default_settings ();
  if (settings == NULL)
    {
      g_set_error_literal (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_FAILED,
                           _("The passphrase could not be checked: out of memory"));
      return FALSE;
    }
  /* A missing or broken configuration leaves the defaults. */
  pwquality_read_config (settings, NULL, NULL);
  score = pwquality_check (settings, passphrase, NULL, NULL, &auxerror);
  if (score < 0)
    {
      /* The reason names a rule, never the passphrase. */
      pwquality_strerror (reason, sizeof reason, score, auxerror);
      g_set_error (error, PS_SYNC_FILE_ERROR, PS_SYNC_FILE_ERROR_WEAK_PASSPHRASE,
                   _("This passphrase is too easy to guess: %s. A few unrelated words "
                     "make a strong one."), reason);
    }
  pwquality_free_settings (settings);
  return score >= 0;
}

/**
 * ps_sync_file_is_record_database:
 * @name: a database name from a file or for one
 *
 * System databases (`_users`, `_replicator`, …) are never a file's to
 * write or read, whatever the configuration says.
 *
 * Returns: whether @name could be a record database
 */
gboolean
ps_sync_file_is_record_database (const char *name)
{
  return name != NULL && *name != '\0' && *name != '_';
}

/**
 * ps_sync_file_is_record_id:
 * @id: a document id
 *
 * Design documents are an instance's code and local documents its private
 * bookkeeping: no file carries them, and CouchDB reserves every other id
 * that starts with `_`.
 *
 * Returns: whether @id could be a record's
 */
gboolean
ps_sync_file_is_record_id (const char *id)
{
  return id != NULL && *id != '\0' && *id != '_';
}

/**
 * ps_sync_file_set_kdf_limits_for_tests:
 * @opslimit: Argon2id's operations limit, or 0
 * @memlimit: its memory limit in bytes, or 0
 *
 * Lowers the key derivation costs of the files written next, so that a
 * test suite writing many files stays quick; 0 and 0 restore the
 * MODERATE costs files are made with. Not for anything else.
 */
void
ps_sync_file_set_kdf_limits_for_tests (guint64 opslimit,
                                       gsize   memlimit)
{
  test_opslimit = opslimit;
  test_memlimit = memlimit;
}

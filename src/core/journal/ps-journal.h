/* ps-journal.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "ps-json.h"

G_BEGIN_DECLS

#define PS_TYPE_JOURNAL (ps_journal_get_type ())
#define PS_JOURNAL_ERROR (ps_journal_error_quark ())

/**
 * PS_JOURNAL_DEFAULT_MAX_SIZE:
 *
 * The size in bytes past which the journal file is rotated.
 */
#define PS_JOURNAL_DEFAULT_MAX_SIZE (4 * 1024 * 1024)

/**
 * PS_JOURNAL_DEFAULT_MAX_GENERATIONS:
 *
 * How many files the journal keeps at least, the current one included.
 * More are kept while they are younger than %PS_JOURNAL_DEFAULT_MIN_AGE.
 */
#define PS_JOURNAL_DEFAULT_MAX_GENERATIONS 8

/**
 * PS_JOURNAL_DEFAULT_MIN_AGE:
 *
 * In seconds, how long ago a file must have been last written before
 * rotation may drop it: 90 days.
 */
#define PS_JOURNAL_DEFAULT_MIN_AGE (90 * 24 * 60 * 60)

G_DECLARE_FINAL_TYPE (PsJournal, ps_journal, PS, JOURNAL, GObject)

/**
 * PsJournalError:
 * @PS_JOURNAL_ERROR_FAILED: the journal file could not be written or read
 * @PS_JOURNAL_ERROR_INVALID_ENTRY: the entry lacks a kind or is malformed
 * @PS_JOURNAL_ERROR_CREDENTIALS: the entry contains what looks like a password
 *
 * Errors from the journal.
 */
typedef enum
{
  PS_JOURNAL_ERROR_FAILED,
  PS_JOURNAL_ERROR_INVALID_ENTRY,
  PS_JOURNAL_ERROR_CREDENTIALS,
} PsJournalError;

/**
 * PsJournalFilter:
 * @server: (nullable): only entries of this server id
 * @database: (nullable): only entries of this database
 * @record: (nullable): only entries of this record id
 * @kind: (nullable): only entries of this kind
 * @max_entries: at most this many entries, 0 for all of them
 *
 * Which entries ps_journal_read() returns; %NULL members match anything.
 */
typedef struct
{
  const char *server;
  const char *database;
  const char *record;
  const char *kind;
  guint       max_entries;
} PsJournalFilter;

GQuark      ps_journal_error_quark      (void);
char       *ps_journal_dup_default_path (void);
PsJournal  *ps_journal_new              (void);
PsJournal  *ps_journal_new_for_path     (const char             *path);
const char *ps_journal_get_path         (PsJournal              *self);
goffset     ps_journal_get_max_size     (PsJournal              *self);
void        ps_journal_set_max_size     (PsJournal              *self,
                                         goffset                 max_size);
guint       ps_journal_get_max_generations (PsJournal           *self);
void        ps_journal_set_max_generations (PsJournal           *self,
                                            guint                generations);
guint       ps_journal_get_min_age      (PsJournal              *self);
void        ps_journal_set_min_age      (PsJournal              *self,
                                         guint                   seconds);
gboolean    ps_journal_append           (PsJournal              *self,
                                         JsonObject             *entry,
                                         GError                **error);
gboolean    ps_journal_append_with_texts (PsJournal             *self,
                                          JsonObject            *entry,
                                          PsJsonTexts           *texts,
                                          GError               **error);
gboolean    ps_journal_append_all       (PsJournal              *self,
                                         GPtrArray              *entries,
                                         GPtrArray             **refused,
                                         GError                **error);
gboolean    ps_journal_append_all_with_texts (PsJournal         *self,
                                              GPtrArray         *entries,
                                              PsJsonTexts       *texts,
                                              GPtrArray        **refused,
                                              GError           **error);
GPtrArray  *ps_journal_read             (PsJournal              *self,
                                         const PsJournalFilter  *filter,
                                         GError                **error);
GPtrArray  *ps_journal_read_with_texts  (PsJournal              *self,
                                         const PsJournalFilter  *filter,
                                         PsJsonTexts           **out_texts,
                                         GError                **error);
gboolean    ps_journal_check_entry      (JsonObject             *entry,
                                         GError                **error);

G_END_DECLS

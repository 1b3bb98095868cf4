/* ps-context.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What every front end shares: one HTTP session, the configured servers,
 * the journal and the sync manager. Widgets receive it as a property.
 */

#define G_LOG_DOMAIN "ps-context"

#include "config.h"

#include "ps-context.h"
#include "ps-couch-database.h"

struct _PsContext
{
  GObject        parent_instance;

  SoupSession   *session;
  PsServerStore *store;
  PsJournal     *journal;
  PsSyncManager *sync_manager;
};

G_DEFINE_FINAL_TYPE (PsContext, ps_context, G_TYPE_OBJECT)

static void
ps_context_dispose (GObject *object)
{
  PsContext *self = (PsContext *)object;

  g_clear_object (&self->sync_manager);

  G_OBJECT_CLASS (ps_context_parent_class)->dispose (object);
}

static void
ps_context_finalize (GObject *object)
{
  PsContext *self = (PsContext *)object;

  g_clear_object (&self->session);
  g_clear_object (&self->store);
  g_clear_object (&self->journal);

  G_OBJECT_CLASS (ps_context_parent_class)->finalize (object);
}

static void
ps_context_class_init (PsContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ps_context_dispose;
  object_class->finalize = ps_context_finalize;
}

static void
ps_context_init (PsContext *self)
{
  self->session = ps_couch_session_new ();
}

static PsContext *
new_context (PsServerStore *store,
             PsJournal     *journal)
{
  PsContext *self = g_object_new (PS_TYPE_CONTEXT, NULL);
  g_autoptr(GError) error = NULL;

  self->store = store;
  self->journal = journal;
  if (!ps_server_store_load (self->store, &error))
    g_warning ("The server list could not be read: %s", error->message);
  /* The window and the command line may change the list at once. */
  ps_server_store_watch (self->store);
  self->sync_manager = ps_sync_manager_new (self->store, self->session, self->journal);

  return self;
}

/**
 * ps_context_new:
 *
 * Returns: (transfer full): the context for the user's configuration
 */
PsContext *
ps_context_new (void)
{
  return new_context (ps_server_store_new (), ps_journal_new ());
}

/**
 * ps_context_new_for_dirs:
 * @config_dir: where the server list is kept
 * @journal_path: the journal file
 *
 * Returns: (transfer full): a context on other files, for tests and demos
 */
PsContext *
ps_context_new_for_dirs (const char *config_dir,
                         const char *journal_path)
{
  return new_context (ps_server_store_new_for_directory (config_dir),
                      ps_journal_new_for_path (journal_path));
}

SoupSession *
ps_context_get_session (PsContext *self)
{
  g_return_val_if_fail (PS_IS_CONTEXT (self), NULL);
  return self->session;
}

PsServerStore *
ps_context_get_server_store (PsContext *self)
{
  g_return_val_if_fail (PS_IS_CONTEXT (self), NULL);
  return self->store;
}

PsJournal *
ps_context_get_journal (PsContext *self)
{
  g_return_val_if_fail (PS_IS_CONTEXT (self), NULL);
  return self->journal;
}

PsSyncManager *
ps_context_get_sync_manager (PsContext *self)
{
  g_return_val_if_fail (PS_IS_CONTEXT (self), NULL);
  return self->sync_manager;
}

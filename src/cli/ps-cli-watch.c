/* ps-cli-watch.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-cli-watch"

#include "config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ps-cli-commands.h"
#include "ps-cli-common.h"
#include "ps-couch-database.h"
#include "ps-secrets.h"
#include "ps-watcher.h"

/* The name systemd's LoadCredential= gives the password in
 * $CREDENTIALS_DIRECTORY.
 */
#define CREDENTIAL_NAME   "primero-sync-password"
#define MAX_PASSWORD_SIZE 4096

/* Passwords are wiped from memory when freed. */
typedef char *PsCliWatchPassword;
static void
wipe_password (char *password)
{
  ps_secrets_wipe (&password);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (PsCliWatchPassword, wipe_password, NULL)

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
  guint     resolved;
} WatchRun;

/* The first line of the file open on @fd, in memory wiped when freed. */
static char *
read_password_fd (int          fd,
                  const char  *path,
                  GError     **error)
{
  char buffer[MAX_PASSWORD_SIZE + 1];
  gsize length = 0;
  char *password;

  while (length < MAX_PASSWORD_SIZE)
    {
      ssize_t n = read (fd, buffer + length, MAX_PASSWORD_SIZE - length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          memset (buffer, 0, sizeof buffer);
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       _("The password file %s could not be read: %s"), path,
                       g_strerror (saved_errno));
          return NULL;
        }
      if (n == 0)
        break;
      length += n;
    }
  buffer[length] = '\0';
  buffer[strcspn (buffer, "\r\n")] = '\0';

  if (buffer[0] == '\0')
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("The password file %s is empty"), path);
      return NULL;
    }

  password = g_strdup (buffer);
  memset (buffer, 0, sizeof buffer);
  return password;
}

/* A password file that others may read, or that someone else owns, is
 * refused: the password would not be the user's secret any more.
 */
static char *
read_password_file (const char  *path,
                    gboolean     check_mode,
                    GError     **error)
{
  struct stat info;
  char *password;
  int fd;

  fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == ELOOP)
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                     _("The password file %s is a symbolic link; name the file itself"), path);
      else
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                     _("The password file %s could not be opened: %s"), path,
                     g_strerror (saved_errno));
      return NULL;
    }

  if (fstat (fd, &info) != 0)
    {
      int saved_errno = errno;

      close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("The password file %s could not be read: %s"), path,
                   g_strerror (saved_errno));
      return NULL;
    }

  if (check_mode && !S_ISREG (info.st_mode))
    {
      close (fd);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   _("The password file %s is not a regular file"), path);
      return NULL;
    }
  if (check_mode && info.st_uid != getuid ())
    {
      close (fd);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   _("The password file %s belongs to another user; it must be yours"), path);
      return NULL;
    }
  if (check_mode && (info.st_mode & 07777) != 0600)
    {
      close (fd);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   _("The password file %s has mode %04o; it must have mode 0600, readable "
                     "and writable by you only (chmod 600 %s)"),
                   path, (guint) (info.st_mode & 07777), path);
      return NULL;
    }

  password = read_password_fd (fd, path, error);
  close (fd);
  return password;
}

/* This instance with its password: from --password-file, else from
 * systemd's credentials, else from the keyring. Without a user, it logs
 * in as nobody.
 */
static PsServerAccess *
find_access (PsServer     *local,
             SoupSession  *session,
             const char   *password_file,
             GError      **error)
{
  const char *credentials = g_getenv ("CREDENTIALS_DIRECTORY");
  g_autofree char *path = NULL;
  g_auto(PsCliWatchPassword) password = NULL;

  if (password_file != NULL)
    path = g_strdup (password_file);
  else if (ps_server_get_username (local) == NULL || *ps_server_get_username (local) == '\0')
    return ps_server_access_new (local, session, NULL);
  else if (credentials != NULL && *credentials != '\0')
    {
      /* systemd makes the credential readable by the service only. */
      path = g_build_filename (credentials, CREDENTIAL_NAME, NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        g_clear_pointer (&path, g_free);
    }

  if (path == NULL)
    return ps_cli_new_access (local, session, error);

  password = read_password_file (path, password_file != NULL, error);
  if (password == NULL)
    return NULL;
  return ps_server_access_new (local, session, password);
}

/* The record databases `sync` replicates into this instance: its own,
 * and those of every configured server, each once.
 */
static char **
dup_database_names (PsServerStore *store)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) local_names = ps_server_dup_database_names (ps_server_store_get_local (store));

  for (guint i = 0; local_names[i] != NULL; i++)
    g_ptr_array_add (names, g_strdup (local_names[i]));

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (store)); i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (G_LIST_MODEL (store), i);
      g_auto(GStrv) server_names = ps_server_dup_database_names (server);

      for (guint j = 0; server_names[j] != NULL; j++)
        {
          if (!g_ptr_array_find_with_equal_func (names, server_names[j], g_str_equal, NULL))
            g_ptr_array_add (names, g_strdup (server_names[j]));
        }
    }
  g_ptr_array_add (names, NULL);

  return (char **) g_ptr_array_steal (names, NULL);
}

static void
print_password_hint (void)
{
  g_printerr (_("Give this instance’s password with --password-file, the systemd "
                "credential “%s”, or “%s instance set --password-stdin”.\n"),
              CREDENTIAL_NAME, g_get_prgname ());
}

static void
on_watcher_resolved_cb (PsWatcher       *watcher,
                        PsCouchDatabase *database,
                        JsonObject      *report,
                        WatchRun        *run)
{
  const char *display_id = json_object_get_string_member_with_default (report, "display_id", NULL);
  JsonArray *decisions = json_object_get_array_member (report, "decisions");
  guint n_decisions = decisions != NULL ? json_array_get_length (decisions) : 0;

  run->resolved++;
  /* TRANSLATORS: “DATABASE: resolved RECORD-TYPE ID (N contested field(s))” */
  g_print (_("%s: resolved %s %s (%u contested field(s))\n"),
           ps_couch_database_get_name (database),
           json_object_get_string_member_with_default (report, "record_type", ""),
           display_id != NULL ? display_id : json_object_get_string_member (report, "id"),
           n_decisions);
}

static void
on_watcher_not_resolved_cb (PsWatcher       *watcher,
                            PsCouchDatabase *database,
                            const char      *failure,
                            WatchRun        *run)
{
  /* TRANSLATORS: “DATABASE: not resolved: RECORD ID: REASON” */
  g_print (_("%s: not resolved: %s\n"), ps_couch_database_get_name (database), failure);
}

static void
on_watcher_state_changed_cb (PsWatcher       *watcher,
                             PsCouchDatabase *database,
                             guint            state,
                             guint            delay_ms,
                             const char      *message,
                             WatchRun        *run)
{
  const char *name = ps_couch_database_get_name (database);

  switch ((PsWatcherState) state)
    {
    case PS_WATCHER_STATE_STARTING:
      break;
    case PS_WATCHER_STATE_CATCHING_UP:
      g_print (_("%s: catching up with earlier changes\n"), name);
      break;
    case PS_WATCHER_STATE_WATCHING:
      g_print (_("%s: watching for conflicts\n"), name);
      break;
    case PS_WATCHER_STATE_WAITING:
      g_print (_("%s: trying again in %u s: %s\n"), name, (delay_ms + 999) / 1000,
               message != NULL ? message : "");
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
on_watch_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  WatchRun *run = user_data;

  run->ok = ps_watcher_run_finish (PS_WATCHER (object), result, &run->error);
  run->done = TRUE;
}

int
ps_cli_watch (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(PsServerStore) store = NULL;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(PsJournal) journal = NULL;
  g_autoptr(PsWatcher) watcher = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(PsServerAccess) access = NULL;
  g_autofree char *password_file = NULL;
  WatchRun run = { 0, };
  PsServer *local;
  const GOptionEntry entries[] = {
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
      N_("Read this instance’s password from the first line of FILE, which must have "
         "mode 0600"), N_("FILE") },
    { NULL }
  };

  context = ps_cli_option_context_new (NULL,
                                       _("Follows the changes of this instance’s record "
                                         "databases and resolves each conflict the Primero way "
                                         "as it appears, journaling it, until stopped. The "
                                         "password comes from --password-file, else from the "
                                         "systemd credential “primero-sync-password”, else "
                                         "from the keyring."),
                                       entries);
  if (!ps_cli_parse_options (context, &argc, &argv))
    return PS_CLI_EXIT_USAGE;
  if (argc != 1)
    return ps_cli_usage_error (context, _("Unexpected argument."));

  /* One line at a time, as it happens, also into the system journal. */
  setvbuf (stdout, NULL, _IOLBF, 0);

  store = ps_cli_load_server_store ();
  if (store == NULL)
    return PS_CLI_EXIT_FAILED;
  local = ps_server_store_get_local (store);

  session = ps_couch_session_new ();
  access = find_access (local, session, password_file, &error);
  if (access == NULL)
    {
      ps_cli_print_error (NULL, error);
      if (g_error_matches (error, PS_SECRETS_ERROR, PS_SECRETS_ERROR_NO_KEYRING))
        print_password_hint ();
      return PS_CLI_EXIT_FAILED;
    }

  journal = ps_journal_new ();
  watcher = ps_watcher_new (journal, NULL);
  names = dup_database_names (store);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(PsCouchDatabase) database = NULL;

      database = ps_server_access_open_database (access, names[i], &error);
      if (database == NULL)
        {
          ps_cli_print_error (NULL, error);
          return PS_CLI_EXIT_FAILED;
        }
      ps_watcher_add_database (watcher, database);
    }
  /* The databases hold their own copy of the password. */
  g_clear_object (&access);

  g_signal_connect (watcher, "resolved", G_CALLBACK (on_watcher_resolved_cb), &run);
  g_signal_connect (watcher, "not-resolved", G_CALLBACK (on_watcher_not_resolved_cb), &run);
  g_signal_connect (watcher, "state-changed", G_CALLBACK (on_watcher_state_changed_cb), &run);

  cancellable = ps_cli_cancel_on_interrupt ();
  ps_watcher_run_async (watcher, cancellable, on_watch_done_cb, &run);
  ps_cli_run_until_done (&run.done);
  g_signal_handlers_disconnect_by_data (watcher, &run);

  /* Stopped by SIGTERM or Ctrl+C: a clean end. */
  if (g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_error (&run.error);
      g_print (ngettext ("Stopped; %u record resolved\n", "Stopped; %u records resolved\n",
                         run.resolved), run.resolved);
      return PS_CLI_EXIT_OK;
    }

  ps_cli_print_error (NULL, run.error);
  if (g_error_matches (run.error, PS_COUCH_ERROR, PS_COUCH_ERROR_UNAUTHORIZED))
    print_password_hint ();
  g_clear_error (&run.error);
  return PS_CLI_EXIT_FAILED;
}

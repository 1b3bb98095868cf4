/* test-ui.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The application in a real window (Xvfb, see tests/run-with-display),
 * with its widgets driven in-process: the same objects a user drives.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "ps-application.h"
#include "ps-autostart.h"
#include "ps-context.h"
#include "ps-secrets.h"
#include "ps-server-dialog.h"
#include "ps-server-row.h"
#include "ps-window.h"

#define WAIT_TIMEOUT_SECONDS 20

/* Private configuration and cache directories. The data directories stay
 * those of the system: they hold the icon theme and the MIME database that
 * a real window needs (which G_TEST_OPTION_ISOLATE_DIRS would hide).
 */
static char *user_dirs;

typedef struct
{
  char          *config_dir;
  PsContext     *context;
  PsApplication *app;
  PsWindow      *window;
} Fixture;

typedef struct
{
  GAsyncResult *result;
} Waiter;

static gboolean
on_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until *flag is set, failing after a while. */
static void
wait_for_flag (gboolean *flag)
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);
  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_false (timed_out);
}

/* Lets pending redraws, resizes and idle handlers run. */
static void
flush_events (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
on_destroy_cb (GtkWidget *widget,
               gboolean  *destroyed)
{
  *destroyed = TRUE;
}

static void
on_async_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Waiter *waiter = user_data;

  waiter->result = g_object_ref (result);
}

static gboolean
waiter_has_result (Waiter *waiter)
{
  return waiter->result != NULL;
}

static void
wait_for_result (Waiter *waiter)
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);
  while (!waiter_has_result (waiter) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_false (timed_out);
}

static char *
lookup_password (const char *server_id)
{
  Waiter waiter = { NULL };
  g_autoptr(GError) error = NULL;
  char *password;

  ps_secrets_lookup_async (server_id, NULL, on_async_done_cb, &waiter);
  wait_for_result (&waiter);
  password = ps_secrets_lookup_finish (waiter.result, &error);
  g_assert_no_error (error);
  g_clear_object (&waiter.result);

  return password;
}

static GObject *
get_child (gpointer    widget,
           GType       type,
           const char *name)
{
  GObject *child = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  g_assert_nonnull (child);
  return child;
}

/* Toplevels are found the way a user sees them: on the screen. */
static GtkWindow *
find_toplevel (GType type)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    {
      if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type) &&
          gtk_widget_get_visible (GTK_WIDGET (l->data)))
        return GTK_WINDOW (l->data);
    }

  return NULL;
}

/* One application for the whole run, as GApplication registers on the
 * session bus for good; each test gets a new window onto an empty list.
 */
static char          *config_dir;
static PsContext     *context;
static PsApplication *app;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  fixture->config_dir = config_dir;
  fixture->context = context;
  fixture->app = app;

  g_assert_null (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_application_activate (G_APPLICATION (app));
  flush_events ();

  fixture->window = PS_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (fixture->window);
  g_assert_true (ps_window_get_context (fixture->window) == context);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  PsServerStore *store = ps_context_get_server_store (context);
  g_autoptr(GError) error = NULL;

  gtk_widget_destroy (GTK_WIDGET (fixture->window));
  flush_events ();

  while (g_list_model_get_n_items (G_LIST_MODEL (store)) > 0)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (G_LIST_MODEL (store), 0);

      g_assert_true (ps_server_store_remove (store, ps_server_get_id (server), &error));
      g_assert_no_error (error);
    }
  g_assert_true (ps_server_store_save (store, &error));
  g_assert_no_error (error);
}

static void
app_set_up (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *journal_path = NULL;

  config_dir = g_dir_make_tmp ("ps-test-ui-XXXXXX", &error);
  g_assert_no_error (error);
  journal_path = g_build_filename (config_dir, "journal.jsonl", NULL);

  context = ps_context_new_for_dirs (config_dir, journal_path);
  app = ps_application_new_for_context (context);
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
}

static void
app_tear_down (void)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_clear_object (&app);
  g_clear_object (&context);

  dir = g_dir_open (config_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (config_dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (config_dir);
  g_clear_pointer (&config_dir, g_free);
}

static PsServerDialog *
open_server_dialog (Fixture *fixture)
{
  GtkWindow *dialog;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "add-server", NULL);
  flush_events ();

  dialog = find_toplevel (PS_TYPE_SERVER_DIALOG);
  g_assert_nonnull (dialog);
  g_assert_true (gtk_window_get_transient_for (dialog) == GTK_WINDOW (fixture->window));

  return PS_SERVER_DIALOG (dialog);
}

static void
set_entry (PsServerDialog *dialog,
           const char     *name,
           const char     *text)
{
  gtk_entry_set_text (GTK_ENTRY (get_child (dialog, PS_TYPE_SERVER_DIALOG, name)), text);
  flush_events ();
}

static gboolean
save_is_enabled (PsServerDialog *dialog)
{
  return gtk_widget_get_sensitive (GTK_WIDGET (get_child (dialog, PS_TYPE_SERVER_DIALOG,
                                                          "save_button")));
}

static const char *
message_of (PsServerDialog *dialog,
            const char     *name)
{
  GtkWidget *label = GTK_WIDGET (get_child (dialog, PS_TYPE_SERVER_DIALOG, name));

  if (!gtk_widget_get_visible (label))
    return NULL;

  return gtk_label_get_text (GTK_LABEL (label));
}

/* Fills in a valid server, saves it and waits for the dialog to close. */
static PsServer *
add_server (Fixture    *fixture,
            const char *description,
            const char *password)
{
  PsServerDialog *dialog = open_server_dialog (fixture);
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  gboolean destroyed = FALSE;
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (store));

  set_entry (dialog, "description_entry", description);
  set_entry (dialog, "url_entry", "https://field.example.org:6984");
  set_entry (dialog, "username_entry", "admin");
  set_entry (dialog, "password_entry", password);
  g_assert_true (save_is_enabled (dialog));

  g_signal_connect (dialog, "destroy", G_CALLBACK (on_destroy_cb), &destroyed);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  wait_for_flag (&destroyed);
  flush_events ();

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, n_items + 1);
  return g_list_model_get_item (G_LIST_MODEL (store), n_items);
}

static void
test_launch (Fixture       *fixture,
             gconstpointer  user_data)
{
  GtkStack *stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "stack"));
  GAction *sync_all;

  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (fixture->window)));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (fixture->window)), ==, "Primero Sync");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "empty");

  /* Nothing to sync yet. */
  sync_all = g_action_map_lookup_action (G_ACTION_MAP (fixture->app), "sync-all");
  g_assert_false (g_action_get_enabled (sync_all));
}

static void
test_server_dialog_validates (Fixture       *fixture,
                              gconstpointer  user_data)
{
  PsServerDialog *dialog = open_server_dialog (fixture);

  g_assert_false (save_is_enabled (dialog));

  /* An empty description is refused… */
  set_entry (dialog, "url_entry", "https://field.example.org:6984");
  set_entry (dialog, "username_entry", "admin");
  set_entry (dialog, "description_entry", "Field office");
  g_assert_true (save_is_enabled (dialog));
  set_entry (dialog, "description_entry", "   ");
  g_assert_false (save_is_enabled (dialog));
  g_assert_nonnull (message_of (dialog, "description_message"));

  /* …and so is the description of this instance. */
  set_entry (dialog, "description_entry",
             ps_server_get_description (ps_server_store_get_local (
               ps_context_get_server_store (fixture->context))));
  g_assert_false (save_is_enabled (dialog));

  /* A URL without a host is refused. */
  set_entry (dialog, "description_entry", "Field office");
  set_entry (dialog, "url_entry", "https://");
  g_assert_false (save_is_enabled (dialog));
  g_assert_nonnull (message_of (dialog, "url_message"));
  g_assert_null (message_of (dialog, "description_message"));

  /* Plain http is allowed, with a warning. */
  set_entry (dialog, "url_entry", "http://field.example.org:5984");
  g_assert_true (save_is_enabled (dialog));
  g_assert_nonnull (message_of (dialog, "url_message"));

  /* A malformed certificate fingerprint is refused. */
  set_entry (dialog, "fingerprint_entry", "not a fingerprint");
  g_assert_false (save_is_enabled (dialog));
  set_entry (dialog, "fingerprint_entry", "");
  g_assert_true (save_is_enabled (dialog));

  /* Database names are checked as the store checks them. */
  set_entry (dialog, "prefix_entry", "Not A Prefix");
  g_assert_false (save_is_enabled (dialog));

  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  flush_events ();
  g_assert_null (find_toplevel (PS_TYPE_SERVER_DIALOG));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (
                      ps_context_get_server_store (fixture->context))), ==, 0);
}

static void
test_server_dialog_saves (Fixture       *fixture,
                          gconstpointer  user_data)
{
  GtkStack *stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "stack"));
  GtkListBox *list = GTK_LIST_BOX (get_child (fixture->window, PS_TYPE_WINDOW, "server_list"));
  g_autoptr(PsServer) server = NULL;
  g_autofree char *password = NULL;
  g_autofree char *path = NULL;
  GtkListBoxRow *row;

  server = add_server (fixture, "Field office", "s3cret pass");

  g_assert_cmpstr (ps_server_get_description (server), ==, "Field office");
  g_assert_cmpstr (ps_server_get_url (server), ==, "https://field.example.org:6984");
  g_assert_cmpstr (ps_server_get_username (server), ==, "admin");
  g_assert_false (ps_server_get_continuous (server));

  /* The password is in the keyring, and in no file. */
  password = lookup_password (ps_server_get_id (server));
  g_assert_cmpstr (password, ==, "s3cret pass");

  path = g_build_filename (fixture->config_dir, "servers.json", NULL);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  {
    g_autofree char *contents = NULL;

    g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
    g_assert_nonnull (strstr (contents, "Field office"));
    g_assert_null (strstr (contents, "s3cret"));
  }

  /* The row appears in place of the empty state. */
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "servers");
  row = gtk_list_box_get_row_at_index (list, 0);
  g_assert_true (PS_IS_SERVER_ROW (row));
  g_assert_true (ps_server_row_get_server (PS_SERVER_ROW (row)) == server);
  g_assert_null (gtk_list_box_get_row_at_index (list, 1));

  /* The same description cannot be used twice. */
  {
    PsServerDialog *dialog = open_server_dialog (fixture);

    set_entry (dialog, "url_entry", "https://other.example.org");
    set_entry (dialog, "username_entry", "admin");
    set_entry (dialog, "description_entry", " field OFFICE ");
    g_assert_false (save_is_enabled (dialog));
    g_assert_nonnull (message_of (dialog, "description_message"));
    gtk_widget_destroy (GTK_WIDGET (dialog));
  }
}

static void
test_delete_server (Fixture       *fixture,
                    gconstpointer  user_data)
{
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  GtkStack *stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "stack"));
  g_autoptr(PsServer) server = NULL;
  g_autofree char *password = NULL;
  GtkWindow *confirmation;
  g_autofree char *id = NULL;

  server = add_server (fixture, "Kampala", "pass");
  id = g_strdup (ps_server_get_id (server));

  /* Deleting asks first; cancelling keeps everything. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "remove-server",
                                  g_variant_new_string (id));
  flush_events ();
  confirmation = find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
  g_assert_nonnull (confirmation);
  gtk_dialog_response (GTK_DIALOG (confirmation), GTK_RESPONSE_CANCEL);
  flush_events ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);

  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "remove-server",
                                  g_variant_new_string (id));
  flush_events ();
  confirmation = find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
  g_assert_nonnull (confirmation);
  gtk_dialog_response (GTK_DIALOG (confirmation), GTK_RESPONSE_ACCEPT);
  flush_events ();

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
  g_assert_false (ps_server_store_get_dirty (store));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "empty");

  /* The keyring forgets the password once it has answered. */
  for (guint i = 0; i < 50; i++)
    {
      g_clear_pointer (&password, g_free);
      password = lookup_password (id);
      if (password == NULL)
        break;
      g_usleep (G_USEC_PER_SEC / 10);
    }
  g_assert_null (password);
}

static void
test_autostart (void)
{
  g_autofree char *path = ps_autostart_dup_path ();
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *exec = NULL;

  g_assert_false (ps_autostart_get_enabled ());

  g_assert_true (ps_autostart_set_enabled (TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (ps_autostart_get_enabled ());
  g_assert_true (g_str_has_prefix (path, g_get_user_config_dir ()));

  g_assert_true (g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  exec = g_key_file_get_string (key_file, G_KEY_FILE_DESKTOP_GROUP,
                                G_KEY_FILE_DESKTOP_KEY_EXEC, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (exec, ==, "primero-sync --gapplication-service");

  g_assert_true (ps_autostart_set_enabled (FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (ps_autostart_get_enabled ());

  /* Turning it off twice is no error. */
  g_assert_true (ps_autostart_set_enabled (FALSE, &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *config_home = NULL;
  g_autofree char *cache_home = NULL;
  g_autofree char *autostart_dir = NULL;
  int status;

  user_dirs = g_dir_make_tmp ("ps-test-ui-home-XXXXXX", NULL);
  g_assert (user_dirs != NULL);
  config_home = g_build_filename (user_dirs, "config", NULL);
  cache_home = g_build_filename (user_dirs, "cache", NULL);
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);

  g_test_init (&argc, &argv, NULL);
  gtk_init (&argc, &argv);

  g_test_add ("/ps/ui/launch", Fixture, NULL,
              fixture_set_up, test_launch, fixture_tear_down);
  g_test_add ("/ps/ui/server-dialog/validates", Fixture, NULL,
              fixture_set_up, test_server_dialog_validates, fixture_tear_down);
  g_test_add ("/ps/ui/server-dialog/saves", Fixture, NULL,
              fixture_set_up, test_server_dialog_saves, fixture_tear_down);
  g_test_add ("/ps/ui/delete-server", Fixture, NULL,
              fixture_set_up, test_delete_server, fixture_tear_down);
  g_test_add_func ("/ps/ui/autostart", test_autostart);

  app_set_up ();
  status = g_test_run ();
  app_tear_down ();

  autostart_dir = g_build_filename (config_home, "autostart", NULL);
  g_rmdir (autostart_dir);
  g_rmdir (config_home);
  g_rmdir (cache_home);
  g_rmdir (user_dirs);
  g_free (user_dirs);

  return status;
}

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
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ps-application.h"
#include "ps-autostart.h"
#include "ps-conflicts-page.h"
#include "ps-context.h"
#include "ps-diagnostics-dialog.h"
#include "ps-fake-couch.h"
#include "ps-preferences-dialog.h"
#include "ps-record-generator.h"
#include "ps-resolution-row.h"
#include "ps-resolution.h"
#include "ps-secrets.h"
#include "ps-server-dialog.h"
#include "ps-server-page.h"
#include "ps-server-row.h"
#include "ps-sync-file-dialog.h"
#include "ps-test-couch-server.h"
#include "ps-test-peer.h"
#include "ps-window-state.h"
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

static void
store_password (const char *server_id,
                const char *password)
{
  Waiter waiter = { NULL };
  g_autoptr(GError) error = NULL;

  ps_secrets_store_async (server_id, NULL, password, NULL, on_async_done_cb, &waiter);
  wait_for_result (&waiter);
  g_assert_true (ps_secrets_store_finish (waiter.result, &error));
  g_assert_no_error (error);
  g_clear_object (&waiter.result);
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

/* Field laptops often have 768 pixels of screen: with Advanced open the
 * dialog must still fit, its buttons and every field reachable.
 */
static void
test_server_dialog_fits_small_screen (Fixture       *fixture,
                                      gconstpointer  user_data)
{
  PsServerDialog *dialog = open_server_dialog (fixture);
  GtkExpander *advanced = GTK_EXPANDER (get_child (dialog, PS_TYPE_SERVER_DIALOG,
                                                   "advanced_expander"));
  GtkWidget *test_button = GTK_WIDGET (get_child (dialog, PS_TYPE_SERVER_DIALOG, "test_button"));
  GtkAdjustment *scroll = gtk_scrolled_window_get_vadjustment (
    GTK_SCROLLED_WINDOW (get_child (dialog, PS_TYPE_SERVER_DIALOG, "content_scroller")));
  int width = 0;
  int height = 0;
  int last_height;
  gint64 deadline;

  set_entry (dialog, "description_entry", "Field office");
  set_entry (dialog, "url_entry", "https://field.example.org:6984");
  set_entry (dialog, "username_entry", "admin");
  gtk_expander_set_expanded (advanced, TRUE);
  /* The X server answers the resize when it can: wait until the size
   * holds still for a while, rather than for a fixed time.
   */
  deadline = g_get_monotonic_time () + WAIT_TIMEOUT_SECONDS * G_USEC_PER_SEC;
  do
    {
      last_height = height;
      flush_events ();
      g_usleep (100 * G_TIME_SPAN_MILLISECOND);
      flush_events ();
      gtk_window_get_size (GTK_WINDOW (dialog), &width, &height);
    }
  while ((height != last_height || !gtk_widget_get_mapped (test_button)) &&
         g_get_monotonic_time () < deadline);
  g_assert_true (gtk_widget_get_mapped (test_button));
  g_assert_cmpint (height, <=, 700);

  /* The last field is reached with the keyboard, scrolled into view. */
  gtk_widget_grab_focus (test_button);
  deadline = g_get_monotonic_time () + WAIT_TIMEOUT_SECONDS * G_USEC_PER_SEC;
  while (gtk_adjustment_get_value (scroll) <= 0 && g_get_monotonic_time () < deadline)
    {
      flush_events ();
      g_usleep (20 * G_TIME_SPAN_MILLISECOND);
    }
  g_assert_true (gtk_widget_is_focus (test_button));
  g_assert_cmpfloat (gtk_adjustment_get_value (scroll), >, 0);

  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  flush_events ();
}

static void
test_server_dialog_saves (Fixture       *fixture,
                          gconstpointer  user_data)
{
  GtkStack *stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "stack"));
  GtkListBox *list = GTK_LIST_BOX (get_child (fixture->window, PS_TYPE_WINDOW, "server_list"));
  g_autoptr(PsServer) server = NULL;
  g_auto(PsSecret) password = NULL;
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
on_revealed_cb (GtkInfoBar *bar,
                GParamSpec *pspec,
                gboolean   *revealed)
{
  *revealed = gtk_info_bar_get_revealed (bar);
}

/* A Primero application that names its CouchDB on another host: the
 * dialog says so and saves only once the user agreed.
 */
static void
test_server_dialog_asks_about_address (Fixture       *fixture,
                                       gconstpointer  user_data)
{
  g_autoptr(PsFakeCouch) application = ps_fake_couch_new ();
  g_autofree char *url = ps_fake_couch_url (application, "");
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  g_autoptr(PsServer) server = NULL;
  PsServerDialog *dialog;
  GtkInfoBar *bar;
  const char *question;
  gboolean revealed = FALSE;
  gboolean destroyed = FALSE;

  ps_fake_couch_route (application, "GET", "/", 200, "text/html", "<html>Primero</html>");
  ps_fake_couch_route (application, "POST", "/replications/configuration", 200, NULL,
                       "{\"target\":\"https://couch.elsewhere.example:6984/\"}");

  dialog = open_server_dialog (fixture);
  set_entry (dialog, "description_entry", "District office");
  set_entry (dialog, "url_entry", url);
  set_entry (dialog, "username_entry", "primero_admin");
  set_entry (dialog, "password_entry", "Sesame-Meadow-31");
  g_assert_true (save_is_enabled (dialog));

  bar = GTK_INFO_BAR (get_child (dialog, PS_TYPE_SERVER_DIALOG, "confirm_bar"));
  g_signal_connect (bar, "notify::revealed", G_CALLBACK (on_revealed_cb), &revealed);
  g_signal_connect (dialog, "destroy", G_CALLBACK (on_destroy_cb), &destroyed);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  wait_for_flag (&revealed);
  flush_events ();

  /* The question names the other host; nothing is saved yet. */
  question = gtk_label_get_text (GTK_LABEL (get_child (dialog, PS_TYPE_SERVER_DIALOG,
                                                       "confirm_label")));
  g_test_message ("The dialog asks: %s", question);
  g_assert_nonnull (strstr (question, "couch.elsewhere.example"));
  g_assert_null (strstr (question, "Sesame-Meadow-31"));
  g_assert_false (destroyed);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);

  gtk_info_bar_response (bar, GTK_RESPONSE_ACCEPT);
  wait_for_flag (&destroyed);
  flush_events ();

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
  server = g_list_model_get_item (G_LIST_MODEL (store), 0);
  g_assert_cmpstr (ps_server_get_url (server), ==, "https://couch.elsewhere.example:6984");
  /* The application was asked once, not again after the answer. */
  g_assert_cmpuint (ps_fake_couch_count_requests (application, "POST",
                                                  "/replications/configuration"), ==, 1);
}

static void
test_delete_server (Fixture       *fixture,
                    gconstpointer  user_data)
{
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  GtkStack *stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "stack"));
  g_autoptr(PsServer) server = NULL;
  g_auto(PsSecret) password = NULL;
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

/* Syncing with real servers */

static const char *databases[] = {
  "primero_child_production",
  "primero_incident_production",
  "primero_tracing_request_production",
};

#define N_SHARED   8
#define N_CONFLICT 3

typedef struct
{
  gboolean    *flag;
  GtkLabel    *label;
  const char  *prefix;
} LabelWait;

static void
put_records (PsTestPeer *peer,
             GPtrArray  *records)
{
  g_autoptr(JsonArray) docs = json_array_new ();

  for (guint i = 0; i < records->len; i++)
    json_array_add_element (docs, json_node_copy (g_ptr_array_index (records, i)));
  ps_test_peer_put_docs (peer, databases[0], docs, FALSE);
}

/* Both instances share some cases, and both edit the first few. */
static void
seed_conflicting_records (PsTestPeer *local,
                          PsTestPeer *remote)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GPtrArray) shared = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GPtrArray) local_edits = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GPtrArray) remote_edits = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  for (guint i = 0; i < N_SHARED; i++)
    g_ptr_array_add (shared, ps_record_generator_child (rand, i));
  for (guint i = 0; i < N_CONFLICT; i++)
    {
      g_ptr_array_add (local_edits, ps_record_generator_edit (rand, shared->pdata[i]));
      g_ptr_array_add (remote_edits, ps_record_generator_edit (rand, shared->pdata[i]));
    }

  put_records (local, shared);
  put_records (remote, shared);
  put_records (local, local_edits);
  put_records (remote, remote_edits);
}

static PsServer *
add_peer_server (Fixture    *fixture,
                 const char *description,
                 const char *url)
{
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  g_autoptr(PsServer) server = ps_server_new (description, url);
  g_autoptr(GError) error = NULL;

  g_assert_true (ps_server_store_add (store, server, &error));
  g_assert_no_error (error);
  flush_events ();

  return g_steal_pointer (&server);
}

static PsServerRow *
find_server_row (Fixture  *fixture,
                 PsServer *server)
{
  GtkListBox *list = GTK_LIST_BOX (get_child (fixture->window, PS_TYPE_WINDOW, "server_list"));
  GtkListBoxRow *row;

  for (guint i = 0; (row = gtk_list_box_get_row_at_index (list, i)) != NULL; i++)
    {
      if (ps_server_row_get_server (PS_SERVER_ROW (row)) == server)
        return PS_SERVER_ROW (row);
    }

  g_assert_not_reached ();
}

static const char *
get_status (Fixture  *fixture,
            PsServer *server)
{
  PsServerRow *row = find_server_row (fixture, server);

  return gtk_label_get_text (GTK_LABEL (get_child (row, PS_TYPE_SERVER_ROW, "status_label")));
}

/* Runs the main loop until the server's row reads @prefix…, as a user
 * waits for it. The row is looked up each time: the list may remake it.
 */
static void
wait_for_status (Fixture    *fixture,
                 PsServer   *server,
                 const char *prefix)
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS * 3, on_timeout_cb, &timed_out);
  while (!g_str_has_prefix (get_status (fixture, server), prefix) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (timeout_id);
  if (timed_out)
    g_test_message ("The row reads “%s”", get_status (fixture, server));
  if (timed_out)
    {
      PsServerReplicationStatus *status;

      status = ps_sync_manager_get_server_replication (
        ps_context_get_sync_manager (fixture->context), server);
      g_test_message ("The window says: %s",
                      gtk_label_get_text (GTK_LABEL (get_child (fixture->window, PS_TYPE_WINDOW,
                                                                "error_label"))));
      if (status != NULL)
        {
          g_autoptr(JsonNode) node = ps_server_replication_status_to_json (status);
          g_autofree char *json = json_to_string (node, FALSE);

          g_test_message ("The status: %s", json);
        }
    }
  g_assert_false (timed_out);
}

static void
wait_for_items (GListModel *model,
                guint       n_items)
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);
  while (g_list_model_get_n_items (model) < n_items && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_false (timed_out);
}

static void
collect_buttons (GtkWidget *widget,
                 gpointer   user_data)
{
  GPtrArray *buttons = user_data;

  if (GTK_IS_BUTTON (widget) &&
      g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)),
                 "conflicts.use-value") == 0)
    g_ptr_array_add (buttons, widget);
  else if (GTK_IS_CONTAINER (widget))
    gtk_container_forall (GTK_CONTAINER (widget), collect_buttons, buttons);
}

static void
test_sync_and_conflicts (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(PsTestPeer) local = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) remote = ps_test_peer_new (TRUE);
  PsServer *this_instance = ps_server_store_get_local (ps_context_get_server_store (fixture->context));
  GtkStack *main_stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "main_stack"));
  GtkStack *stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "stack"));
  g_autoptr(PsServer) server = NULL;
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();
  GVariant *target;
  g_autofree char *local_url = g_strdup (ps_server_get_url (this_instance));
  PsConflictsPage *conflicts;
  g_autoptr(PsResolution) resolution = NULL;
  PsServerRow *row;
  GtkListBox *resolutions;
  GtkWidget *fields_box;
  GtkInfoBar *message_bar;
  g_autoptr(GList) fields = NULL;
  g_autofree char *value_json = NULL;
  g_autofree char *path = NULL;
  g_autofree char *record = NULL;

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      ps_test_peer_create_db (local, databases[d]);
      ps_test_peer_create_db (remote, databases[d]);
    }
  seed_conflicting_records (local, remote);

  ps_server_set_url (this_instance, ps_test_peer_get_url (local));
  server = add_peer_server (fixture, "Field office", ps_test_peer_get_url (remote));

  /* Sync Now, as a user would press it, until the row says it is done. */
  row = find_server_row (fixture, server);
  gtk_button_clicked (GTK_BUTTON (get_child (row, PS_TYPE_SERVER_ROW, "sync_button")));
  wait_for_status (fixture, server, "Up to date");
  row = find_server_row (fixture, server);

  /* The row opens the server's details, database by database. */
  g_signal_emit_by_name (get_child (fixture->window, PS_TYPE_WINDOW, "server_list"),
                         "row-activated", row);
  flush_events ();
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "server");
  {
    PsServerPage *page = PS_SERVER_PAGE (gtk_stack_get_visible_child (stack));
    GtkListBox *database_list = GTK_LIST_BOX (get_child (page, PS_TYPE_SERVER_PAGE,
                                                         "database_list"));

    g_assert_true (ps_server_page_get_server (page) == server);
    for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
      g_assert_nonnull (gtk_list_box_get_row_at_index (database_list, d));
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (get_child (page, PS_TYPE_SERVER_PAGE,
                                                               "status_label"))),
                     ==, "Up to date");

    /* The page follows the server as it is edited. */
    ps_server_set_description (server, "Gulu field office");
    flush_events ();
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (get_child (page, PS_TYPE_SERVER_PAGE,
                                                               "description_label"))),
                     ==, "Gulu field office");
    ps_server_set_description (server, "Field office");
  }
  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "show-servers", NULL);
  flush_events ();
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "servers");

  /* The conflicts page lists each record edited on both sides. */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "show-conflicts", NULL);
  flush_events ();
  g_assert_cmpstr (gtk_stack_get_visible_child_name (main_stack), ==, "conflicts");
  conflicts = PS_CONFLICTS_PAGE (gtk_stack_get_visible_child (main_stack));
  wait_for_items (ps_conflicts_page_get_resolutions (conflicts), N_CONFLICT);
  flush_events ();
  g_assert_cmpuint (g_list_model_get_n_items (ps_conflicts_page_get_resolutions (conflicts)),
                    ==, N_CONFLICT);

  resolutions = GTK_LIST_BOX (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE, "resolution_list"));
  gtk_list_box_select_row (resolutions, gtk_list_box_get_row_at_index (resolutions, 0));
  flush_events ();
  resolution = g_list_model_get_item (ps_conflicts_page_get_resolutions (conflicts), 0);
  g_assert_cmpstr (ps_resolution_get_server_id (resolution), ==, ps_server_get_id (server));
  g_assert_cmpuint (ps_resolution_get_n_decisions (resolution), >, 0);

  /* One frame per contested field, each with its discarded values. */
  fields_box = GTK_WIDGET (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE, "fields_box"));
  fields = gtk_container_get_children (GTK_CONTAINER (fields_box));
  g_assert_cmpuint (g_list_length (fields), ==, ps_resolution_get_n_decisions (resolution));
  /* Named as Primero's users know it: the generated cases have names. */
  g_assert_nonnull (ps_resolution_get_name (resolution));
  {
    g_autofree char *title = g_strdup_printf ("%s (%s)", ps_resolution_get_name (resolution),
                                              ps_resolution_get_display_id (resolution));

    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE,
                                                               "record_label"))),
                     ==, title);
  }

  /* Only the record types that had conflicts are offered. */
  {
    GtkComboBox *type_combo = GTK_COMBO_BOX (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE,
                                                        "type_combo"));

    g_assert_true (gtk_combo_box_set_active_id (type_combo, "Incident") == FALSE);
    g_assert_true (gtk_combo_box_set_active_id (type_combo, "Child"));
    flush_events ();
    wait_for_items (ps_conflicts_page_get_resolutions (conflicts), N_CONFLICT);
  }

  /* Choosing a discarded value changes the record on this instance. */
  collect_buttons (fields_box, buttons);
  g_assert_cmpuint (buttons->len, >, 0);
  target = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (buttons->pdata[0]));
  /* Copies: the page rebuilds its buttons once the edit is journaled. */
  g_variant_get (target, "(sssss)", NULL, NULL, &record, &path, &value_json);
  message_bar = GTK_INFO_BAR (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE, "message_bar"));
  gtk_button_clicked (GTK_BUTTON (buttons->pdata[0]));
  {
    gboolean timed_out = FALSE;
    guint timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);

    while (!gtk_info_bar_get_revealed (message_bar) && !timed_out)
      g_main_context_iteration (NULL, TRUE);
    if (!timed_out)
      g_source_remove (timeout_id);
    g_assert_false (timed_out);
  }
  g_assert_cmpint (gtk_info_bar_get_message_type (message_bar), ==, GTK_MESSAGE_INFO);
  {
    g_autofree char *doc_path = g_strdup_printf ("/%s/%s", databases[0], record);
    guint status = 0;
    g_autoptr(JsonNode) doc = ps_test_peer_request (local, "GET", doc_path, NULL, &status);
    g_autofree char *doc_text = doc != NULL ? json_to_string (doc, FALSE) : g_strdup ("(none)");
    JsonArray *histories;

    g_test_message ("GET %s: %u %.300s", doc_path, status, doc_text);
    g_assert_cmpuint (status, ==, 200);
    histories = json_object_get_array_member (json_node_get_object (doc), "histories");
    JsonObject *changes = json_object_get_object_member (json_array_get_object_element (histories, 0),
                                                         "changes");

    g_auto(GStrv) parts = g_strsplit (path, "/", 2);

    g_assert_true (json_object_has_member (changes, parts[0]));
  }

  ps_server_set_url (this_instance, local_url);
  ps_sync_manager_stop (ps_context_get_sync_manager (fixture->context), ps_server_get_id (server));
}

static gboolean
shows_exactly (GListModel *model,
               guint       n_items,
               const char *first_display_id)
{
  g_autoptr(PsResolution) first = NULL;

  if (g_list_model_get_n_items (model) != n_items)
    return FALSE;
  if (n_items == 0 || first_display_id == NULL)
    return TRUE;

  first = g_list_model_get_item (model, 0);
  return g_strcmp0 (ps_resolution_get_display_id (first), first_display_id) == 0;
}

/* Types a search as a user would, and waits for the list it gives: the
 * search entry waits for the typing to pause before it searches.
 */
static void
search_for (GtkEntry   *entry,
            GListModel *model,
            const char *text,
            guint       n_items,
            const char *first_display_id)
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  gtk_entry_set_text (entry, text);
  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);
  while (!shows_exactly (model, n_items, first_display_id) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (timeout_id);
  if (timed_out)
    g_test_message ("“%s”: %u items, not %u", text, g_list_model_get_n_items (model), n_items);
  g_assert_false (timed_out);
  flush_events ();
}

/* A journaled resolution as the resolver writes it; name may be NULL, as in
 * entries journaled before resolutions carried names.
 */
static void
journal_resolution (PsContext  *ctx,
                    const char *record,
                    const char *display_id,
                    const char *name,
                    const char *record_type)
{
  g_autoptr(JsonObject) entry = json_object_new ();
  g_autoptr(JsonObject) report = json_object_new ();
  g_autoptr(GError) error = NULL;

  json_object_set_string_member (report, "id", record);
  json_object_set_string_member (report, "display_id", display_id);
  if (name != NULL)
    json_object_set_string_member (report, "name", name);
  json_object_set_string_member (report, "record_type", record_type);
  json_object_set_string_member (report, "method", "histories");
  json_object_set_array_member (report, "decisions", json_array_new ());

  json_object_set_string_member (entry, "kind", "resolution");
  json_object_set_string_member (entry, "database", "primero_child_production");
  json_object_set_string_member (entry, "record", record);
  json_object_set_object_member (entry, "resolution", g_steal_pointer (&report));
  ps_journal_append (ps_context_get_journal (ctx), entry, &error);
  g_assert_no_error (error);
}

static const char *
row_label (GtkListBox *list,
           guint       index,
           const char *name)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (list, index);
  GtkWidget *label;

  g_assert_nonnull (row);
  label = GTK_WIDGET (get_child (row, PS_TYPE_RESOLUTION_ROW, name));
  if (!gtk_widget_get_visible (label))
    return NULL;

  return gtk_label_get_text (GTK_LABEL (label));
}

static void
collect_labels (GtkWidget *widget,
                gpointer   user_data)
{
  GString *texts = user_data;

  if (GTK_IS_LABEL (widget))
    g_string_append_printf (texts, "%s\n", gtk_label_get_text (GTK_LABEL (widget)));
  else if (GTK_IS_CONTAINER (widget))
    gtk_container_forall (GTK_CONTAINER (widget), collect_labels, texts);
}

/* A contested big integer and decimal are shown as the record had them,
 * and "Use This Value Instead" carries the exact number: rounded, it
 * would change the record.
 */
static void
test_conflicts_numbers_exact (Fixture       *fixture,
                              gconstpointer  user_data)
{
  GtkStack *main_stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "main_stack"));
  const char *path = ps_journal_get_path (ps_context_get_journal (fixture->context));
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();
  g_autoptr(GString) labels = g_string_new (NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  PsConflictsPage *conflicts;
  GtkListBox *list;
  GtkEntry *search;
  GtkWidget *fields_box;
  FILE *file;
  const char *line =
    "{\"kind\":\"resolution\",\"database\":\"primero_child_production\",\"record\":\"rec-n\","
    "\"resolution\":{\"id\":\"rec-n\",\"display_id\":\"n0001\",\"name\":\"Amina Numbers\","
    "\"record_type\":\"Child\",\"method\":\"newer-document\",\"decisions\":["
    "{\"path\":\"age\",\"kind\":\"newer-document\","
    "\"kept\":{\"value\":7,\"rev\":\"2-bbbb\",\"user\":\"a\",\"organisation\":null,\"time\":null},"
    "\"discarded\":[{\"value\":123456789012345678901234567890,\"rev\":\"2-aaaa\",\"user\":\"b\","
    "\"organisation\":null,\"time\":null}]},"
    "{\"path\":\"latitude\",\"kind\":\"newer-document\","
    "\"kept\":{\"value\":2.7745,\"rev\":\"2-bbbb\",\"user\":\"a\",\"organisation\":null,"
    "\"time\":null},"
    "\"discarded\":[{\"value\":0.1,\"rev\":\"2-aaaa\",\"user\":\"b\",\"organisation\":null,"
    "\"time\":null}]}]},"
    "\"time\":\"2024-02-01T10:00:00Z\"}\n";

  /* Appended as the journal holds it, after what other tests journaled. */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  file = fopen (path, "a");
  g_assert_nonnull (file);
  g_assert_cmpint (fputs (line, file), >=, 0);
  g_assert_cmpint (fclose (file), ==, 0);

  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "show-conflicts", NULL);
  flush_events ();
  conflicts = PS_CONFLICTS_PAGE (gtk_stack_get_visible_child (main_stack));
  ps_conflicts_page_refresh (conflicts);
  search = GTK_ENTRY (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE, "search_entry"));
  search_for (search, ps_conflicts_page_get_resolutions (conflicts), "n0001", 1, "n0001");
  list = GTK_LIST_BOX (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE, "resolution_list"));
  gtk_list_box_select_row (list, gtk_list_box_get_row_at_index (list, 0));
  flush_events ();

  fields_box = GTK_WIDGET (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE, "fields_box"));
  collect_labels (fields_box, labels);
  g_test_message ("%s", labels->str);
  g_assert_nonnull (strstr (labels->str, "Discarded: 123456789012345678901234567890\n"));
  g_assert_nonnull (strstr (labels->str, "Kept: 7\n"));
  g_assert_nonnull (strstr (labels->str, "Kept: 2.7745\n"));
  g_assert_nonnull (strstr (labels->str, "Discarded: 0.1\n"));

  collect_buttons (fields_box, buttons);
  g_assert_cmpuint (buttons->len, ==, 2);
  {
    GVariant *target = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (buttons->pdata[0]));
    const char *field;
    const char *value_json;

    g_variant_get (target, "(sss&s&s)", NULL, NULL, NULL, &field, &value_json);
    g_assert_cmpstr (field, ==, "age");
    g_assert_cmpstr (value_json, ==, "123456789012345678901234567890");
  }

  gtk_entry_set_text (search, "");
  flush_events ();
}

/* Records are named and found the way Primero's users know them: by the id
 * Primero shows and by name, whatever the case of what is typed.
 */
static void
test_conflicts_names_and_search (Fixture       *fixture,
                                 gconstpointer  user_data)
{
  GtkStack *main_stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "main_stack"));
  PsConflictsPage *conflicts;
  GListModel *resolutions;
  GtkListBox *list;
  GtkEntry *search;
  GtkStack *content_stack;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "show-conflicts", NULL);
  flush_events ();
  conflicts = PS_CONFLICTS_PAGE (gtk_stack_get_visible_child (main_stack));
  resolutions = ps_conflicts_page_get_resolutions (conflicts);
  list = GTK_LIST_BOX (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE, "resolution_list"));
  search = GTK_ENTRY (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE, "search_entry"));
  content_stack = GTK_STACK (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE, "content_stack"));

  journal_resolution (fixture->context, "3f2c9a1e0b7d4c55a1e2q7x0011",
                      "q7x0011", "Hauwa Qwertyson", "Child");
  journal_resolution (fixture->context, "8d1e6b2f9c3a4e77b0f1q7x0042",
                      "q7x0042", "Fatima Qwertyson", "TracingRequest");
  journal_resolution (fixture->context, "c0ffee00aa11bb22cc33q7x0099",
                      "q7x0099", NULL, "Incident");

  /* By surname, whatever its case: both named records, the newest first,
   * each row naming its record.
   */
  search_for (search, resolutions, "QWERTYSON", 2, "q7x0042");
  g_assert_cmpstr (row_label (list, 0, "display_id_label"), ==, "q7x0042");
  g_assert_cmpstr (row_label (list, 0, "name_label"), ==, "Fatima Qwertyson");
  g_assert_cmpstr (row_label (list, 1, "display_id_label"), ==, "q7x0011");
  g_assert_cmpstr (row_label (list, 1, "name_label"), ==, "Hauwa Qwertyson");

  /* The record shown is titled by its name and id. */
  gtk_list_box_select_row (list, gtk_list_box_get_row_at_index (list, 1));
  flush_events ();
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (get_child (conflicts, PS_TYPE_CONFLICTS_PAGE,
                                                             "record_label"))),
                   ==, "Hauwa Qwertyson (q7x0011)");

  /* Every word counts: first name and surname. */
  search_for (search, resolutions, "hauwa qwerty", 1, "q7x0011");

  /* By the id Primero shows; a record without a name shows its id alone. */
  search_for (search, resolutions, "Q7X0099", 1, "q7x0099");
  g_assert_cmpstr (row_label (list, 0, "display_id_label"), ==, "q7x0099");
  g_assert_null (row_label (list, 0, "name_label"));

  /* Nothing found says so, rather than “No Conflicts Resolved”. */
  search_for (search, resolutions, "no such child", 0, NULL);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (content_stack), ==, "no-match");

  /* An empty search shows them all again. */
  gtk_entry_set_text (search, "");
  wait_for_items (resolutions, 3);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (content_stack), ==, "list");
}

static void
collect_actionables (GtkWidget *widget,
                     gpointer   user_data)
{
  GPtrArray *found = user_data;

  if (GTK_IS_BUTTON (widget) && gtk_widget_get_visible (widget) &&
      gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)) != NULL &&
      g_str_has_prefix (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), "diagnostics."))
    g_ptr_array_add (found, widget);
  else if (GTK_IS_CONTAINER (widget))
    gtk_container_forall (GTK_CONTAINER (widget), collect_actionables, found);
}

/* A refused login in the diagnostics names the next action: a button that
 * opens the server's dialog with the password ready to be typed again.
 */
static void
test_diagnostics_fix (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new_with_admin (TRUE, "admin", "Kestrel-Quarry-4410");
  g_autoptr(PsServer) server = NULL;
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();
  PsDiagnosticsDialog *diagnostics;
  PsServerDialog *server_dialog;
  GtkWidget *fix = NULL;
  gboolean destroyed = FALSE;
  gboolean timed_out = FALSE;
  guint timeout_id;

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    ps_test_peer_create_db (peer, databases[d]);
  server = add_peer_server (fixture, "Office with a new password", ps_test_peer_get_url (peer));
  /* The right user, and no password in the keyring: the login is refused. */
  ps_server_set_username (server, "admin");

  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "diagnose-server",
                                  g_variant_new_string (ps_server_get_id (server)));
  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);
  while ((diagnostics = PS_DIAGNOSTICS_DIALOG (find_toplevel (PS_TYPE_DIAGNOSTICS_DIALOG))) == NULL &&
         !timed_out)
    g_main_context_iteration (NULL, TRUE);
  while (!timed_out &&
         (ps_diagnostics_get_running (ps_diagnostics_dialog_get_diagnostics (diagnostics)) ||
          ps_diagnostics_get_verdict (ps_diagnostics_dialog_get_diagnostics (diagnostics)) ==
            PS_DIAGNOSTIC_PENDING))
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_false (timed_out);
  flush_events ();

  /* The failed login's row offers to change the user name and password. */
  collect_actionables (GTK_WIDGET (diagnostics), buttons);
  for (guint i = 0; i < buttons->len; i++)
    {
      GVariant *target = gtk_actionable_get_action_target_value (buttons->pdata[i]);

      g_test_message ("%s %s", gtk_button_get_label (buttons->pdata[i]),
                      target != NULL ? g_variant_get_string (target, NULL) : "");
      if (target != NULL && g_strcmp0 (g_variant_get_string (target, NULL), "password") == 0)
        fix = buttons->pdata[i];
    }
  g_assert_nonnull (fix);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (fix)), ==, "_Edit the User Name and Password");

  g_signal_connect (diagnostics, "destroy", G_CALLBACK (on_destroy_cb), &destroyed);
  gtk_button_clicked (GTK_BUTTON (fix));
  flush_events ();
  g_assert_true (destroyed);

  /* The server's own dialog, the password field ready. */
  server_dialog = PS_SERVER_DIALOG (find_toplevel (PS_TYPE_SERVER_DIALOG));
  g_assert_nonnull (server_dialog);
  g_assert_cmpstr (gtk_entry_get_text (GTK_ENTRY (get_child (server_dialog, PS_TYPE_SERVER_DIALOG,
                                                             "description_entry"))),
                   ==, "Office with a new password");
  g_assert_true (gtk_window_get_focus (GTK_WINDOW (server_dialog)) ==
                 GTK_WIDGET (get_child (server_dialog, PS_TYPE_SERVER_DIALOG, "password_entry")));
  gtk_widget_destroy (GTK_WIDGET (server_dialog));
  flush_events ();
}

/* Testing a server being edited, without typing its password again,
 * logs in with the one in the keyring.
 */
static void
test_server_dialog_tests_stored_password (Fixture       *fixture,
                                          gconstpointer  user_data)
{
  g_autoptr(PsTestPeer) peer = ps_test_peer_new_with_admin (TRUE, "admin", "Lantern-Orchard-2281");
  g_autoptr(PsServer) server = NULL;
  PsDiagnosticsDialog *diagnostics = NULL;
  PsDiagnostics *checks = NULL;
  PsDiagnosticResult *login;
  PsServerDialog *server_dialog;
  gboolean timed_out = FALSE;
  guint timeout_id;

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    ps_test_peer_create_db (peer, databases[d]);
  server = add_peer_server (fixture, "Office with a kept password", ps_test_peer_get_url (peer));
  ps_server_set_username (server, "admin");
  store_password (ps_server_get_id (server), "Lantern-Orchard-2281");

  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "edit-server",
                                  g_variant_new_string (ps_server_get_id (server)));
  flush_events ();
  server_dialog = PS_SERVER_DIALOG (find_toplevel (PS_TYPE_SERVER_DIALOG));
  g_assert_nonnull (server_dialog);
  g_assert_cmpstr (gtk_entry_get_text (GTK_ENTRY (get_child (server_dialog, PS_TYPE_SERVER_DIALOG,
                                                             "password_entry"))), ==, "");
  gtk_button_clicked (GTK_BUTTON (get_child (server_dialog, PS_TYPE_SERVER_DIALOG,
                                             "test_button")));

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);
  while ((diagnostics = PS_DIAGNOSTICS_DIALOG (find_toplevel (PS_TYPE_DIAGNOSTICS_DIALOG))) == NULL &&
         !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (diagnostics != NULL)
    checks = ps_diagnostics_dialog_get_diagnostics (diagnostics);
  while (!timed_out &&
         (ps_diagnostics_get_running (checks) ||
          ps_diagnostics_get_verdict (checks) == PS_DIAGNOSTIC_PENDING))
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_false (timed_out);

  login = ps_diagnostics_lookup_result (checks, "credentials");
  g_assert_nonnull (login);
  g_test_message ("%s", ps_diagnostic_result_get_explanation (login));
  g_assert_cmpint (ps_diagnostic_result_get_verdict (login), ==, PS_DIAGNOSTIC_PASS);

  gtk_widget_destroy (GTK_WIDGET (diagnostics));
  gtk_widget_destroy (GTK_WIDGET (server_dialog));
  flush_events ();
}

static void
find_menu_model (GtkWidget *widget,
                 gpointer   user_data)
{
  GMenuModel **menu = user_data;

  if (GTK_IS_MENU_BUTTON (widget) && gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (widget)))
    *menu = gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (widget));
}

/* F1 and the main menu's Help open the user guide in the desktop's help
 * viewer: here a viewer that writes down the address it was given, made the
 * default for help: addresses the way a desktop makes yelp the default.
 */
static void
test_help (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_autofree char *dir = g_dir_make_tmp ("ps-test-help-XXXXXX", NULL);
  g_autofree char *viewer = g_build_filename (dir, "viewer", NULL);
  g_autofree char *opened = g_build_filename (dir, "opened", NULL);
  g_autofree char *script = NULL;
  g_autofree char *apps_dir = g_build_filename (g_get_user_data_dir (), "applications", NULL);
  g_autofree char *desktop_path = g_build_filename (apps_dir, "ps-test-help-viewer.desktop", NULL);
  g_autofree char *desktop = NULL;
  g_autofree char *mimeapps = g_build_filename (g_get_user_config_dir (), "mimeapps.list", NULL);
  g_autofree char *uri = NULL;
  g_auto(GStrv) accels = NULL;
  g_autoptr(GError) error = NULL;
  GMenuModel *menu = NULL;
  gboolean in_menu = FALSE;
  gboolean timed_out = FALSE;
  guint timeout_id;

  /* F1, as GNOME applications have it. */
  accels = gtk_application_get_accels_for_action (GTK_APPLICATION (fixture->app), "app.help");
  g_assert_nonnull (accels);
  g_assert_cmpstr (accels[0], ==, "F1");

  /* An entry of the main menu. */
  gtk_container_forall (GTK_CONTAINER (gtk_window_get_titlebar (GTK_WINDOW (fixture->window))),
                        find_menu_model, &menu);
  g_assert_nonnull (menu);
  for (int i = 0; i < g_menu_model_get_n_items (menu) && !in_menu; i++)
    {
      GMenuModel *section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);

      for (int j = 0; section != NULL && j < g_menu_model_get_n_items (section); j++)
        {
          g_autofree char *action = NULL;

          if (g_menu_model_get_item_attribute (section, j, G_MENU_ATTRIBUTE_ACTION, "s", &action) &&
              g_strcmp0 (action, "app.help") == 0)
            in_menu = TRUE;
        }
      g_clear_object (&section);
    }
  g_assert_true (in_menu);

  script = g_strdup_printf ("#!/bin/sh\nprintf '%%s' \"$1\" > '%s.tmp' && mv '%s.tmp' '%s'\n",
                            opened, opened, opened);
  g_file_set_contents (viewer, script, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (viewer, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (apps_dir, 0700), ==, 0);
  desktop = g_strdup_printf ("[Desktop Entry]\nType=Application\nName=Help Viewer\n"
                             "Exec=%s %%u\nMimeType=x-scheme-handler/help;\n", viewer);
  g_file_set_contents (desktop_path, desktop, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_config_dir (), 0700), ==, 0);
  g_file_set_contents (mimeapps, "[Default Applications]\n"
                                 "x-scheme-handler/help=ps-test-help-viewer.desktop\n",
                       -1, &error);
  g_assert_no_error (error);

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "help", NULL);

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);
  while (!g_file_test (opened, G_FILE_TEST_EXISTS) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_false (timed_out);

  g_file_get_contents (opened, &uri, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (uri, ==, "help:org.primero.Sync");

  g_unlink (opened);
  g_unlink (viewer);
  g_unlink (desktop_path);
  g_unlink (mimeapps);
  g_rmdir (dir);
}

/* A stand-in for the desktop's notification server, on the private bus. */
typedef struct
{
  GPtrArray *titles;
  gboolean   owned;
  GPtrArray *bodies;
  guint      n_closed;
  guint      registration;
  guint      owner;
} Notifications;

static const char notifications_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.Notifications'>"
  "    <method name='Notify'>"
  "      <arg type='s' direction='in'/><arg type='u' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='as' direction='in'/>"
  "      <arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "      <arg type='u' direction='out'/>"
  "    </method>"
  "    <method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "    <method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "    <method name='GetServerInformation'>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "    </method>"
  "  </interface>"
  "</node>";

static void
on_notifications_method_call_cb (GDBusConnection       *connection,
                                 const char            *sender,
                                 const char            *object_path,
                                 const char            *interface_name,
                                 const char            *method_name,
                                 GVariant              *parameters,
                                 GDBusMethodInvocation *invocation,
                                 gpointer               user_data)
{
  Notifications *notifications = user_data;

  if (g_str_equal (method_name, "Notify"))
    {
      const char *summary;
      const char *body;

      g_variant_get_child (parameters, 3, "&s", &summary);
      g_variant_get_child (parameters, 4, "&s", &body);
      g_ptr_array_add (notifications->titles, g_strdup (summary));
      g_ptr_array_add (notifications->bodies, g_strdup (body));
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(u)", notifications->titles->len));
    }
  else if (g_str_equal (method_name, "CloseNotification"))
    {
      notifications->n_closed++;
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "GetCapabilities"))
    {
      const char *caps[] = { "body", "actions", NULL };

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(^as)", caps));
    }
  else if (g_str_equal (method_name, "GetServerInformation"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(ssss)", "test", "test", "1", "1.2"));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
on_name_acquired_cb (GDBusConnection *connection,
                     const char      *name,
                     gpointer         user_data)
{
  Notifications *notifications = user_data;

  notifications->owned = TRUE;
}

static guint16
closed_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  guint16 port;

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_socket_listener_close (listener);

  return port;
}

/* Takes the desktop's notification server's name on the private bus. */
static void
notifications_start (Fixture       *fixture,
                     Notifications *notifications)
{
  static const GDBusInterfaceVTable vtable = { on_notifications_method_call_cb, NULL, NULL, { 0 } };
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (notifications_xml, NULL);
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (fixture->app));
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (bus);
  notifications->titles = g_ptr_array_new_with_free_func (g_free);
  notifications->bodies = g_ptr_array_new_with_free_func (g_free);
  notifications->registration =
    g_dbus_connection_register_object (bus, "/org/freedesktop/Notifications",
                                       info->interfaces[0], &vtable,
                                       notifications, NULL, &error);
  g_assert_no_error (error);
  notifications->owner = g_bus_own_name_on_connection (bus, "org.freedesktop.Notifications",
                                                       G_BUS_NAME_OWNER_FLAGS_NONE,
                                                       on_name_acquired_cb, NULL,
                                                       notifications, NULL);
  wait_for_flag (&notifications->owned);
}

static void
notifications_stop (Fixture       *fixture,
                    Notifications *notifications)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (fixture->app));

  g_bus_unown_name (notifications->owner);
  g_dbus_connection_unregister_object (bus, notifications->registration);
  g_clear_pointer (&notifications->titles, g_ptr_array_unref);
  g_clear_pointer (&notifications->bodies, g_ptr_array_unref);
}

static void
test_failure_notifies (Fixture       *fixture,
                       gconstpointer  user_data)
{
  Notifications notifications = { NULL, };
  g_autoptr(PsServer) server = NULL;
  g_autofree char *url = NULL;
  PsServerRow *row;

  notifications_start (fixture, &notifications);

  url = g_strdup_printf ("http://127.0.0.1:%u", closed_port ());
  server = add_peer_server (fixture, "Closed office", url);

  row = find_server_row (fixture, server);
  gtk_button_clicked (GTK_BUTTON (get_child (row, PS_TYPE_SERVER_ROW, "sync_button")));
  wait_for_status (fixture, server, "Failed");

  /* The desktop is told, with the server named in the title. */
  {
    gboolean timed_out = FALSE;
    guint timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);

    while (notifications.titles->len == 0 && !timed_out)
      g_main_context_iteration (NULL, TRUE);
    if (!timed_out)
      g_source_remove (timeout_id);
    g_assert_false (timed_out);
  }
  g_assert_cmpuint (notifications.titles->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (notifications.titles, 0), "Closed office"));

  notifications_stop (fixture, &notifications);
}

/* The setting as servers.json keeps it, read back from the file. */
static gboolean
saved_on_server (Fixture    *fixture,
                 const char *server_id)
{
  g_autofree char *path = g_build_filename (fixture->config_dir, "servers.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *servers;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  servers = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                          "servers");
  for (guint i = 0; i < json_array_get_length (servers); i++)
    {
      JsonObject *object = json_array_get_object_element (servers, i);

      if (g_strcmp0 (json_object_get_string_member (object, "id"), server_id) == 0)
        return json_object_get_boolean_member_with_default (object, "on_server", FALSE);
    }

  g_assert_not_reached ();
}

static PsServerDialog *
open_edit_dialog (Fixture  *fixture,
                  PsServer *server)
{
  GtkWindow *dialog;

  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "edit-server",
                                  g_variant_new_string (ps_server_get_id (server)));
  flush_events ();
  dialog = find_toplevel (PS_TYPE_SERVER_DIALOG);
  g_assert_nonnull (dialog);

  return PS_SERVER_DIALOG (dialog);
}

/* Saves with "Keep syncing on the server" ticked and returns the question
 * asked before, still open.
 */
static GtkMessageDialog *
save_and_find_question (PsServerDialog *dialog)
{
  GtkWindow *question;

  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  flush_events ();
  question = find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
  g_assert_nonnull (question);
  g_assert_true (gtk_window_get_transient_for (question) == GTK_WINDOW (dialog));

  return GTK_MESSAGE_DIALOG (question);
}

/* Keeping a server in sync on the server moves its password into this
 * instance's _replicator: the dialog says so and asks first; Cancel saves
 * nothing. Agreed, the window writes the documents, and says plainly when
 * this instance's CouchDB cannot be reached.
 */
static void
test_server_dialog_on_server_consent (Fixture       *fixture,
                                      gconstpointer  user_data)
{
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  PsServer *this_instance = ps_server_store_get_local (store);
  g_autofree char *local_url = g_strdup (ps_server_get_url (this_instance));
  g_autofree char *closed_url = g_strdup_printf ("http://127.0.0.1:%u", closed_port ());
  GtkInfoBar *error_bar = GTK_INFO_BAR (get_child (fixture->window, PS_TYPE_WINDOW, "error_bar"));
  g_autoptr(PsServer) server = NULL;
  g_autofree char *primary = NULL;
  g_autofree char *secondary = NULL;
  GtkMessageDialog *question;
  PsServerDialog *dialog;
  GtkToggleButton *check;
  gboolean destroyed = FALSE;
  gboolean revealed = FALSE;
  const char *error_text;

  ps_server_set_url (this_instance, closed_url);
  server = add_server (fixture, "Arua office", "Quartz-Lantern-58");
  g_assert_false (ps_server_get_on_server (server));

  dialog = open_edit_dialog (fixture, server);
  check = GTK_TOGGLE_BUTTON (get_child (dialog, PS_TYPE_SERVER_DIALOG, "on_server_check"));
  g_assert_false (gtk_toggle_button_get_active (check));
  gtk_toggle_button_set_active (check, TRUE);

  /* CouchDB's replicator knows nothing of a certificate pinned here. */
  set_entry (dialog, "fingerprint_entry",
             "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
             "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89");
  g_assert_true (save_is_enabled (dialog));
  g_assert_nonnull (strstr (message_of (dialog, "on_server_message"), "pinned certificate"));
  set_entry (dialog, "fingerprint_entry", "");
  g_assert_null (strstr (message_of (dialog, "on_server_message"), "pinned certificate"));

  /* The question says where the password goes, and who can read it. */
  question = save_and_find_question (dialog);
  g_object_get (question, "text", &primary, "secondary-text", &secondary, NULL);
  g_test_message ("The dialog asks: %s %s", primary, secondary);
  g_assert_nonnull (strstr (primary, "Arua office"));
  g_assert_nonnull (strstr (secondary, "_replicator"));
  g_assert_nonnull (strstr (secondary, "administrators"));
  g_assert_null (strstr (secondary, "Quartz-Lantern-58"));

  /* Cancel: nothing is saved, the dialog stays for another choice. */
  gtk_dialog_response (GTK_DIALOG (question), GTK_RESPONSE_CANCEL);
  flush_events ();
  g_assert_null (find_toplevel (GTK_TYPE_MESSAGE_DIALOG));
  g_assert_true (find_toplevel (PS_TYPE_SERVER_DIALOG) == GTK_WINDOW (dialog));
  g_assert_false (ps_server_get_on_server (server));
  g_assert_false (saved_on_server (fixture, ps_server_get_id (server)));

  /* Agreed: saved, and the documents are written into this instance's
   * CouchDB, which does not answer here.
   */
  g_signal_connect (dialog, "destroy", G_CALLBACK (on_destroy_cb), &destroyed);
  g_signal_connect (error_bar, "notify::revealed", G_CALLBACK (on_revealed_cb), &revealed);
  question = save_and_find_question (dialog);
  gtk_dialog_response (GTK_DIALOG (question), GTK_RESPONSE_ACCEPT);
  wait_for_flag (&destroyed);
  g_assert_true (ps_server_get_on_server (server));
  g_assert_true (saved_on_server (fixture, ps_server_get_id (server)));

  wait_for_flag (&revealed);
  g_signal_handlers_disconnect_by_data (error_bar, &revealed);
  error_text = gtk_label_get_text (GTK_LABEL (get_child (fixture->window, PS_TYPE_WINDOW,
                                                         "error_label")));
  g_test_message ("The window says: %s", error_text);
  g_assert_nonnull (strstr (error_text, "replication documents"));
  g_assert_null (strstr (error_text, "Quartz-Lantern-58"));
  gtk_info_bar_set_revealed (error_bar, FALSE);

  /* A server already kept on the server is not asked about again, and
   * going back to the desktop asks nothing.
   */
  dialog = open_edit_dialog (fixture, server);
  check = GTK_TOGGLE_BUTTON (get_child (dialog, PS_TYPE_SERVER_DIALOG, "on_server_check"));
  g_assert_true (gtk_toggle_button_get_active (check));
  gtk_toggle_button_set_active (check, FALSE);
  destroyed = FALSE;
  g_signal_connect (dialog, "destroy", G_CALLBACK (on_destroy_cb), &destroyed);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  flush_events ();
  g_assert_null (find_toplevel (GTK_TYPE_MESSAGE_DIALOG));
  wait_for_flag (&destroyed);
  g_assert_false (ps_server_get_on_server (server));
  g_assert_false (saved_on_server (fixture, ps_server_get_id (server)));

  ps_server_set_url (this_instance, local_url);
}

static gboolean
is_failing_status (const char *status)
{
  return g_str_has_prefix (status, "Failing, retrying: ") || g_str_has_prefix (status, "Failed: ");
}

/* Runs the main loop until @done says the server's row reads right. */
static void
wait_for_row (Fixture    *fixture,
              PsServer   *server,
              gboolean  (*done) (const char *status))
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS * 4, on_timeout_cb, &timed_out);
  while (!done (get_status (fixture, server)) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (timeout_id);
  g_test_message ("The row reads “%s”", get_status (fixture, server));
  if (timed_out)
    {
      PsServerReplicationStatus *status;

      status = ps_sync_manager_get_server_replication (
        ps_context_get_sync_manager (fixture->context), server);
      g_test_message ("The window says: %s",
                      gtk_label_get_text (GTK_LABEL (get_child (fixture->window, PS_TYPE_WINDOW,
                                                                "error_label"))));
      if (status != NULL)
        {
          g_autoptr(JsonNode) node = ps_server_replication_status_to_json (status);
          g_autofree char *json = json_to_string (node, FALSE);

          g_test_message ("The status: %s", json);
        }
    }
  g_assert_false (timed_out);
}

static gboolean
is_running_status (const char *status)
{
  return g_str_equal (status, "Running") || g_str_equal (status, "Waiting");
}

static void
assert_no_password (const char *text,
                    const char *password)
{
  g_assert_nonnull (text);
  g_assert_null (strstr (text, password));
}

static guint
count_replicator_docs (PsTestCouchServer *instance,
                       const char        *server_id)
{
  g_autofree char *prefix = g_strdup_printf ("primero-sync-%s-", server_id);
  g_autoptr(JsonNode) answer = NULL;
  JsonArray *rows;
  guint status = 0;
  guint n = 0;

  answer = ps_test_peer_request (ps_test_couch_server_get_peer (instance), "GET",
                                 "/_replicator/_all_docs", NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  rows = json_object_get_array_member (json_node_get_object (answer), "rows");
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);

      if (g_str_has_prefix (json_object_get_string_member (row, "id"), prefix))
        n++;
    }

  return n;
}

static gboolean
on_tick_cb (gpointer user_data)
{
  gboolean *ticked = user_data;

  *ticked = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until this instance's _replicator holds @n_docs of
 * the server's documents, as the window writes or removes them.
 */
static void
wait_for_replicator_docs (PsTestCouchServer *instance,
                          const char        *server_id,
                          guint              n_docs)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_SECONDS * G_USEC_PER_SEC;

  while (count_replicator_docs (instance, server_id) != n_docs)
    {
      gboolean ticked = FALSE;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_timeout_add (100, on_tick_cb, &ticked);
      wait_for_flag (&ticked);
    }
}

/* WCAG's relative luminance of a colour. */
static double
relative_luminance (const GdkRGBA *color)
{
  double channels[3] = { color->red, color->green, color->blue };

  for (guint i = 0; i < 3; i++)
    channels[i] = channels[i] <= 0.03928 ? channels[i] / 12.92
                                         : pow ((channels[i] + 0.055) / 1.055, 2.4);

  return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
}

static gboolean
is_highlighted (GtkWidget *row)
{
  GtkStyleContext *style = gtk_widget_get_style_context (row);
  GdkRGBA *background = NULL;
  gboolean highlighted;

  gtk_style_context_get (style, gtk_style_context_get_state (style),
                         GTK_STYLE_PROPERTY_BACKGROUND_COLOR, &background, NULL);
  highlighted = background->alpha > 0.99;
  gdk_rgba_free (background);

  return highlighted;
}

/* Runs the main loop until @row is drawn highlighted: its style follows
 * its state at the next frame.
 */
static void
wait_for_highlight (GtkWidget *row)
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);
  while (!is_highlighted (row) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_false (timed_out);
}

/* WCAG's contrast ratio of @label's text on @row's background, as drawn. */
static double
text_contrast (GtkWidget *row,
               GtkWidget *label)
{
  GtkStyleContext *row_style = gtk_widget_get_style_context (row);
  GtkStyleContext *label_style = gtk_widget_get_style_context (label);
  GdkRGBA *background = NULL;
  GdkRGBA text;
  g_autofree char *text_color = NULL;
  g_autofree char *background_color = NULL;
  double lighter;
  double darker;

  gtk_style_context_get (row_style, gtk_style_context_get_state (row_style),
                         GTK_STYLE_PROPERTY_BACKGROUND_COLOR, &background, NULL);
  gtk_style_context_get_color (label_style, gtk_style_context_get_state (label_style), &text);
  text_color = gdk_rgba_to_string (&text);
  background_color = gdk_rgba_to_string (background);
  g_test_message ("Text %s on %s", text_color, background_color);
  g_assert_cmpfloat (background->alpha, >, 0.99);
  /* The text as drawn: its colour blended onto the background. */
  text.alpha *= gtk_widget_get_opacity (label);
  text.red = text.red * text.alpha + background->red * (1 - text.alpha);
  text.green = text.green * text.alpha + background->green * (1 - text.alpha);
  text.blue = text.blue * text.alpha + background->blue * (1 - text.alpha);

  lighter = MAX (relative_luminance (&text), relative_luminance (background));
  darker = MIN (relative_luminance (&text), relative_luminance (background));
  gdk_rgba_free (background);

  return (lighter + 0.05) / (darker + 0.05);
}

/* This instance on @instance, a server on @remote with @password in the
 * keyring, every record database fresh on both; then server-side sync
 * turned on as a user does, in the dialog, agreeing to the question.
 */
static PsServer *
add_server_synced_on_server (Fixture           *fixture,
                             const char        *description,
                             PsTestCouchServer *instance,
                             PsTestCouchServer *remote,
                             const char        *password)
{
  PsServer *this_instance = ps_server_store_get_local (ps_context_get_server_store (fixture->context));
  PsServer *server;
  PsServerDialog *dialog;
  g_auto(GStrv) names = NULL;
  gboolean destroyed = FALSE;

  ps_server_set_url (this_instance, ps_test_couch_server_get_url (instance));
  ps_server_set_username (this_instance, ps_test_couch_server_get_user (instance));
  store_password (ps_server_get_id (this_instance),
                  ps_test_couch_server_get_password (instance));

  server = add_peer_server (fixture, description, ps_test_couch_server_get_url (remote));
  ps_server_set_username (server, ps_test_couch_server_get_user (remote));
  store_password (ps_server_get_id (server), password);
  names = ps_server_dup_database_names (server);
  for (guint i = 0; names[i] != NULL; i++)
    {
      ps_test_couch_server_fresh_db (instance, names[i]);
      ps_test_couch_server_fresh_db (remote, names[i]);
    }
  ps_sync_manager_set_replication_poll_interval (ps_context_get_sync_manager (fixture->context),
                                                 500);

  dialog = open_edit_dialog (fixture, server);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (get_child (dialog, PS_TYPE_SERVER_DIALOG,
                                                              "on_server_check")), TRUE);
  g_signal_connect (dialog, "destroy", G_CALLBACK (on_destroy_cb), &destroyed);
  gtk_dialog_response (GTK_DIALOG (save_and_find_question (dialog)), GTK_RESPONSE_ACCEPT);
  wait_for_flag (&destroyed);
  g_assert_true (ps_server_get_on_server (server));

  return server;
}

/* A server kept in sync on the server, against two real CouchDBs, whose
 * password is wrong: CouchDB's replicator fails, and the row, the page and
 * a notification say so with CouchDB's reason. With the password mended
 * and the documents written again, it runs and the notification goes.
 */
static void
test_on_server_crashing (Fixture       *fixture,
                         gconstpointer  user_data)
{
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  PsServer *this_instance = ps_server_store_get_local (store);
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);
  GtkStack *stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "stack"));
  g_autofree char *local_url = g_strdup (ps_server_get_url (this_instance));
  g_autofree char *local_username = g_strdup (ps_server_get_username (this_instance));
  g_autoptr(PsTestCouchServer) instance = NULL;
  g_autoptr(PsTestCouchServer) remote = NULL;
  Notifications notifications = { NULL, };
  g_autoptr(PsServer) server = NULL;
  g_auto(GStrv) names = NULL;
  const char *wrong_password = "Wrong-Basalt-771";
  const char *password;
  PsServerDialog *dialog;
  PsServerPage *page;
  PsServerRow *row;
  GtkListBox *list;
  AtkObject *accessible;
  gboolean destroyed = FALSE;
  const char *text;

  if (g_getenv ("PS_TEST_COUCHDB") == NULL || *g_getenv ("PS_TEST_COUCHDB") == '\0')
    {
      g_test_skip ("no CouchDB (set PS_TEST_COUCHDB to a couchdb-run script or a server URL)");
      return;
    }

  /* Servers 4 and 5: the couchdb suite's programs use the others. */
  instance = ps_test_couch_server_new (4);
  remote = ps_test_couch_server_new (5);
  password = ps_test_couch_server_get_password (remote);
  for (guint i = 0; i < 2; i++)
    {
      PsTestCouchServer *couch = i == 0 ? instance : remote;

      ps_test_couch_server_set_config (couch, "replicator", "startup_jitter", "0");
      /* Five wrong passwords lock the user out for minutes, even with the
       * right one: mending it is tested at once here.
       */
      ps_test_couch_server_set_config (couch, "chttpd_auth_lockout", "mode", "off");
    }
  notifications_start (fixture, &notifications);

  server = add_server_synced_on_server (fixture, "Gulu field office", instance, remote,
                                        wrong_password);
  names = ps_server_dup_database_names (server);

  /* The row: the state and CouchDB's reason, also for a screen reader. */
  wait_for_row (fixture, server, is_failing_status);
  row = find_server_row (fixture, server);
  text = get_status (fixture, server);
  /* Why, in plain words, on one line. */
  g_assert_nonnull (strstr (text, "refused"));
  g_assert_null (strchr (text, '\n'));
  assert_no_password (text, wrong_password);
  assert_no_password (text, password);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (get_child (row, PS_TYPE_SERVER_ROW,
                                                                "on_server_badge"))));
  /* One line, shortened by the label where the row is too narrow: the
   * whole reason is in its tooltip.
   */
  {
    GtkLabel *status_label = GTK_LABEL (get_child (row, PS_TYPE_SERVER_ROW, "status_label"));
    const char *error = ps_server_replication_status_get_error (
      ps_sync_manager_get_server_replication (manager, server));
    g_autofree char *tooltip = gtk_widget_get_tooltip_text (GTK_WIDGET (status_label));

    g_test_message ("The status's tooltip: %s", tooltip);
    g_assert_nonnull (strstr (text, error));
    g_assert_nonnull (tooltip);
    g_assert_nonnull (strstr (tooltip, error));
    g_assert_cmpint (gtk_label_get_ellipsize (status_label), ==, PANGO_ELLIPSIZE_END);
    g_assert_false (gtk_label_get_line_wrap (status_label));
  }
  /* Selected, the row is highlighted: its error text stays readable on
   * it (WCAG's 3:1, the least the theme's own text on a selected row has).
   */
  {
    GtkListBox *server_list = GTK_LIST_BOX (get_child (fixture->window, PS_TYPE_WINDOW,
                                                       "server_list"));
    double contrast;

    gtk_list_box_select_row (server_list, GTK_LIST_BOX_ROW (row));
    flush_events ();
    wait_for_highlight (GTK_WIDGET (row));
    contrast = text_contrast (GTK_WIDGET (row),
                              GTK_WIDGET (get_child (row, PS_TYPE_SERVER_ROW, "status_label")));
    g_test_message ("The error's contrast on the selected row: %.2f", contrast);
    g_assert_cmpfloat (contrast, >=, 3.0);
  }
  accessible = gtk_widget_get_accessible (GTK_WIDGET (row));
  g_test_message ("The row's description: %s", atk_object_get_description (accessible));
  g_assert_nonnull (strstr (atk_object_get_description (accessible),
                            g_str_has_prefix (text, "Failed") ? "Failed" : "Failing, retrying"));
  /* The whole reason, where the row's text may shorten it. */
  g_assert_nonnull (strstr (atk_object_get_description (accessible),
                            ps_server_replication_status_get_error (
                              ps_sync_manager_get_server_replication (manager, server))));

  /* The desktop is told, as for a failed sync. */
  {
    gboolean timed_out = FALSE;
    guint timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);

    while (notifications.titles->len == 0 && !timed_out)
      g_main_context_iteration (NULL, TRUE);
    if (!timed_out)
      g_source_remove (timeout_id);
    g_assert_false (timed_out);
  }
  g_test_message ("Notified: %s: %s", (char *) g_ptr_array_index (notifications.titles, 0),
                  (char *) g_ptr_array_index (notifications.bodies, 0));
  g_assert_nonnull (strstr (g_ptr_array_index (notifications.titles, 0), "Gulu field office"));
  g_assert_cmpstr (g_ptr_array_index (notifications.bodies, 0), !=, "");
  assert_no_password (g_ptr_array_index (notifications.bodies, 0), wrong_password);

  /* The page: the section with the state, the error and each replication. */
  g_signal_emit_by_name (get_child (fixture->window, PS_TYPE_WINDOW, "server_list"),
                         "row-activated", row);
  flush_events ();
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "server");
  page = PS_SERVER_PAGE (gtk_stack_get_visible_child (stack));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (get_child (page, PS_TYPE_SERVER_PAGE,
                                                                "replication_box"))));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (get_child (page, PS_TYPE_SERVER_PAGE,
                                                                 "databases_box"))));
  text = gtk_label_get_text (GTK_LABEL (get_child (page, PS_TYPE_SERVER_PAGE,
                                                   "replication_state_label")));
  g_test_message ("The page says: %s", text);
  g_assert_true (g_str_equal (text, "State: Failing, retrying") ||
                 g_str_equal (text, "State: Failed"));
  text = gtk_label_get_text (GTK_LABEL (get_child (page, PS_TYPE_SERVER_PAGE,
                                                   "replication_error_label")));
  g_test_message ("CouchDB's error: %s", text);
  g_assert_cmpstr (text, !=, "");
  assert_no_password (text, wrong_password);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (get_child (page, PS_TYPE_SERVER_PAGE,
                                                                "replication_error_box"))));
  list = GTK_LIST_BOX (get_child (page, PS_TYPE_SERVER_PAGE, "replication_list"));
  {
    GtkListBoxRow *entry = gtk_list_box_get_row_at_index (list, 0);
    const char *name;

    g_assert_nonnull (entry);
    name = atk_object_get_name (gtk_widget_get_accessible (GTK_WIDGET (entry)));
    g_test_message ("The first replication reads: %s", name);
    g_assert_nonnull (strstr (name, names[0]));
    g_assert_nonnull (strstr (name, "documents written"));
  }
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (get_child (page, PS_TYPE_SERVER_PAGE,
                                                                "sync_button"))),
                   ==, "_Update Server Replication");

  /* Mended: the right password, and the documents written again. */
  store_password (ps_server_get_id (server), password);
  gtk_button_clicked (GTK_BUTTON (get_child (page, PS_TYPE_SERVER_PAGE, "sync_button")));
  wait_for_row (fixture, server, is_running_status);
  {
    gboolean timed_out = FALSE;
    guint timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, on_timeout_cb, &timed_out);

    while (notifications.n_closed == 0 && !timed_out)
      g_main_context_iteration (NULL, TRUE);
    if (!timed_out)
      g_source_remove (timeout_id);
    g_assert_false (timed_out);
  }

  /* Back to the desktop: no question, its documents go, and the row is
   * the desktop's again.
   */
  g_assert_cmpuint (count_replicator_docs (instance, ps_server_get_id (server)), ==,
                    2 * g_strv_length (names));
  dialog = open_edit_dialog (fixture, server);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (get_child (dialog, PS_TYPE_SERVER_DIALOG,
                                                              "on_server_check")), FALSE);
  destroyed = FALSE;
  g_signal_connect (dialog, "destroy", G_CALLBACK (on_destroy_cb), &destroyed);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  wait_for_flag (&destroyed);
  row = find_server_row (fixture, server);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (get_child (row, PS_TYPE_SERVER_ROW,
                                                                 "on_server_badge"))));
  g_assert_false (is_failing_status (get_status (fixture, server)));
  g_assert_false (is_running_status (get_status (fixture, server)));
  wait_for_replicator_docs (instance, ps_server_get_id (server), 0);

  /* Deleted while kept on the server: its documents go with it. */
  dialog = open_edit_dialog (fixture, server);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (get_child (dialog, PS_TYPE_SERVER_DIALOG,
                                                              "on_server_check")), TRUE);
  destroyed = FALSE;
  g_signal_connect (dialog, "destroy", G_CALLBACK (on_destroy_cb), &destroyed);
  gtk_dialog_response (GTK_DIALOG (save_and_find_question (dialog)), GTK_RESPONSE_ACCEPT);
  wait_for_flag (&destroyed);
  wait_for_replicator_docs (instance, ps_server_get_id (server), 2 * g_strv_length (names));
  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "remove-server",
                                  g_variant_new_string (ps_server_get_id (server)));
  flush_events ();
  gtk_dialog_response (GTK_DIALOG (find_toplevel (GTK_TYPE_MESSAGE_DIALOG)), GTK_RESPONSE_ACCEPT);
  flush_events ();
  g_assert_null (ps_server_store_lookup (store, ps_server_get_id (server)));
  wait_for_replicator_docs (instance, ps_server_get_id (server), 0);

  notifications_stop (fixture, &notifications);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "show-servers", NULL);
  ps_server_set_url (this_instance, local_url);
  ps_server_set_username (this_instance, local_username);
}

/* The replication on the page that says @database, one @direction. */
static GtkListBoxRow *
find_replication_row (PsServerPage *page,
                      const char   *database,
                      const char   *direction)
{
  GtkListBox *list = GTK_LIST_BOX (get_child (page, PS_TYPE_SERVER_PAGE, "replication_list"));
  GtkListBoxRow *row;

  for (guint i = 0; (row = gtk_list_box_get_row_at_index (list, i)) != NULL; i++)
    {
      const char *name = atk_object_get_name (gtk_widget_get_accessible (GTK_WIDGET (row)));

      if (name != NULL && strstr (name, database) != NULL && strstr (name, direction) != NULL)
        return row;
    }

  return NULL;
}

static void
on_button_notify_cb (GObject    *button,
                     GParamSpec *pspec,
                     guint      *n_notified)
{
  (*n_notified)++;
}

/* Counts each time the label, action or tooltip of @button is set. */
static void
count_button_changes (GtkWidget *button,
                      guint     *n_notified)
{
  g_signal_connect (button, "notify::label", G_CALLBACK (on_button_notify_cb), n_notified);
  g_signal_connect (button, "notify::action-name", G_CALLBACK (on_button_notify_cb),
                    n_notified);
  g_signal_connect (button, "notify::tooltip-text", G_CALLBACK (on_button_notify_cb),
                    n_notified);
}

/* While CouchDB replicates, the counts change with every reading of its
 * status. The page keeps each replication's row and changes its words in
 * place, so that a screen reader's place and the keyboard focus stay; the
 * sync buttons, whose meaning has not changed, are not set again.
 */
static void
test_on_server_page_keeps_rows (Fixture       *fixture,
                                gconstpointer  user_data)
{
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  PsServer *this_instance = ps_server_store_get_local (store);
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);
  GtkStack *stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "stack"));
  g_autofree char *local_url = g_strdup (ps_server_get_url (this_instance));
  g_autofree char *local_username = g_strdup (ps_server_get_username (this_instance));
  g_autoptr(PsTestCouchServer) instance = NULL;
  g_autoptr(PsTestCouchServer) remote = NULL;
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GRand) rand = g_rand_new_with_seed (16);
  g_autoptr(PsServer) server = NULL;
  g_autofree char *written = NULL;
  g_auto(GStrv) names = NULL;
  const char *pulled = "From the server to this instance";
  PsServerDialog *dialog;
  PsServerPage *page;
  PsServerRow *server_row;
  GtkListBoxRow *row;
  GtkWidget *page_button;
  GtkWidget *row_button;
  GtkWidget *page_button_child;
  guint n_page_button_changes = 0;
  guint n_row_button_changes = 0;
  gboolean row_destroyed = FALSE;
  gboolean destroyed = FALSE;
  gboolean timed_out = FALSE;
  guint timeout_id;

  if (g_getenv ("PS_TEST_COUCHDB") == NULL || *g_getenv ("PS_TEST_COUCHDB") == '\0')
    {
      g_test_skip ("no CouchDB (set PS_TEST_COUCHDB to a couchdb-run script or a server URL)");
      return;
    }

  instance = ps_test_couch_server_new (4);
  remote = ps_test_couch_server_new (5);
  for (guint i = 0; i < 2; i++)
    ps_test_couch_server_set_config (i == 0 ? instance : remote,
                                     "replicator", "startup_jitter", "0");

  server = add_server_synced_on_server (fixture, "Kitgum field office", instance, remote,
                                        ps_test_couch_server_get_password (remote));
  names = ps_server_dup_database_names (server);
  wait_for_row (fixture, server, is_running_status);

  server_row = find_server_row (fixture, server);
  g_signal_emit_by_name (get_child (fixture->window, PS_TYPE_WINDOW, "server_list"),
                         "row-activated", server_row);
  flush_events ();
  page = PS_SERVER_PAGE (gtk_stack_get_visible_child (stack));

  /* The replication a user has reached, with the keyboard or a screen
   * reader: the first database, pulled.
   */
  row = find_replication_row (page, names[0], pulled);
  g_assert_nonnull (row);
  g_test_message ("The replication reads: %s",
                  atk_object_get_name (gtk_widget_get_accessible (GTK_WIDGET (row))));
  g_assert_nonnull (strstr (atk_object_get_name (gtk_widget_get_accessible (GTK_WIDGET (row))),
                            "0 documents written"));
  gtk_widget_grab_focus (GTK_WIDGET (row));
  g_signal_connect (row, "destroy", G_CALLBACK (on_destroy_cb), &row_destroyed);

  page_button = GTK_WIDGET (get_child (page, PS_TYPE_SERVER_PAGE, "sync_button"));
  page_button_child = gtk_bin_get_child (GTK_BIN (page_button));
  row_button = GTK_WIDGET (get_child (server_row, PS_TYPE_SERVER_ROW, "sync_button"));
  count_button_changes (page_button, &n_page_button_changes);
  count_button_changes (row_button, &n_row_button_changes);

  /* Records written on the server: CouchDB pulls them in, and its counts
   * grow while the page is open.
   */
  for (guint i = 0; i < 3; i++)
    g_ptr_array_add (records, ps_record_generator_child (rand, i));
  ps_test_peer_put_records (ps_test_couch_server_get_peer (remote), names[0], records);
  written = g_strdup_printf ("%u documents written", records->len);

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS * 2, on_timeout_cb, &timed_out);
  while (!row_destroyed && !timed_out &&
         strstr (atk_object_get_name (gtk_widget_get_accessible (GTK_WIDGET (row))),
                 written) == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);

  /* The same row, told the new count, where it was. */
  g_assert_false (row_destroyed);
  g_assert_false (timed_out);
  g_test_message ("The same replication now reads: %s",
                  atk_object_get_name (gtk_widget_get_accessible (GTK_WIDGET (row))));
  g_assert_true (find_replication_row (page, names[0], pulled) == row);
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (row)));

  /* Several readings, and the buttons were left alone. */
  for (guint i = 0; i < 3; i++)
    {
      gboolean changed = FALSE;

      g_signal_connect_swapped (manager, "server-replication-changed",
                                G_CALLBACK (on_tick_cb), &changed);
      wait_for_flag (&changed);
      g_signal_handlers_disconnect_by_func (manager, on_tick_cb, &changed);
    }
  g_test_message ("The page's button was set %u times, the row's %u times",
                  n_page_button_changes, n_row_button_changes);
  g_assert_cmpuint (n_page_button_changes, ==, 0);
  g_assert_cmpuint (n_row_button_changes, ==, 0);
  g_assert_true (gtk_bin_get_child (GTK_BIN (page_button)) == page_button_child);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (page_button)), ==,
                   "_Update Server Replication");
  g_signal_handlers_disconnect_by_func (page_button, on_button_notify_cb,
                                        &n_page_button_changes);
  g_signal_handlers_disconnect_by_func (row_button, on_button_notify_cb,
                                        &n_row_button_changes);
  g_signal_handlers_disconnect_by_func (row, on_destroy_cb, &row_destroyed);

  /* Back to the desktop, its documents removed. */
  dialog = open_edit_dialog (fixture, server);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (get_child (dialog, PS_TYPE_SERVER_DIALOG,
                                                              "on_server_check")), FALSE);
  destroyed = FALSE;
  g_signal_connect (dialog, "destroy", G_CALLBACK (on_destroy_cb), &destroyed);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  wait_for_flag (&destroyed);
  wait_for_replicator_docs (instance, ps_server_get_id (server), 0);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (page_button)), ==, "_Sync Now");

  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "show-servers", NULL);
  ps_server_set_url (this_instance, local_url);
  ps_server_set_username (this_instance, local_username);
}

/* A server's page opened from the keyboard: the address can be selected
 * and copied, but the page does not open with the keyboard on it and its
 * text selected.
 */
static void
test_server_page_focus (Fixture       *fixture,
                        gconstpointer  user_data)
{
  GtkStack *stack = GTK_STACK (get_child (fixture->window, PS_TYPE_WINDOW, "stack"));
  g_autoptr(PsServer) server = NULL;
  GtkWidget *url_label;
  GtkWidget *focus;
  PsServerPage *page;
  PsServerRow *row;
  int start = 0;
  int end = 0;

  server = add_peer_server (fixture, "Lira field office", "https://lira.example.org:6984");
  row = find_server_row (fixture, server);
  gtk_widget_grab_focus (GTK_WIDGET (row));
  /* Enter on the row, as a keyboard user opens it. */
  g_signal_emit_by_name (row, "activate");
  flush_events ();
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "server");
  page = PS_SERVER_PAGE (gtk_stack_get_visible_child (stack));
  url_label = GTK_WIDGET (get_child (page, PS_TYPE_SERVER_PAGE, "url_label"));
  focus = gtk_window_get_focus (GTK_WINDOW (fixture->window));
  g_test_message ("The keyboard is on: %s “%s”",
                  focus != NULL ? G_OBJECT_TYPE_NAME (focus) : "nothing",
                  GTK_IS_BUTTON (focus) ? gtk_button_get_label (GTK_BUTTON (focus)) : "");
  g_assert_true (focus != url_label);
  g_assert_false (gtk_label_get_selection_bounds (GTK_LABEL (url_label), &start, &end));

  /* Tab from Back reaches the address, to copy it. */
  gtk_widget_grab_focus (GTK_WIDGET (get_child (page, PS_TYPE_SERVER_PAGE, "back_button")));
  g_assert_true (gtk_widget_child_focus (GTK_WIDGET (fixture->window), GTK_DIR_TAB_FORWARD));
  g_assert_true (gtk_window_get_focus (GTK_WINDOW (fixture->window)) == url_label);
  g_assert_true (gtk_label_get_selectable (GTK_LABEL (url_label)));

  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "show-servers", NULL);
}

static void
on_status_changed_cb (GObject    *label,
                      GParamSpec *pspec,
                      gboolean   *changed)
{
  if (*gtk_label_get_text (GTK_LABEL (label)) != '\0')
    *changed = TRUE;
}

/* Types the passphrase(s), presses the button and waits for the outcome. */
static char *
run_sync_file_dialog (PsSyncFileDialog *dialog,
                      const char       *passphrase,
                      gboolean          exporting)
{
  GtkWidget *run = GTK_WIDGET (get_child (dialog, PS_TYPE_SYNC_FILE_DIALOG, "run_button"));
  GtkWidget *status = GTK_WIDGET (get_child (dialog, PS_TYPE_SYNC_FILE_DIALOG, "status_label"));
  GtkEntry *entry = GTK_ENTRY (get_child (dialog, PS_TYPE_SYNC_FILE_DIALOG, "passphrase_entry"));
  GtkEntry *confirm = GTK_ENTRY (get_child (dialog, PS_TYPE_SYNC_FILE_DIALOG, "confirm_entry"));
  AtkObject *accessible = gtk_widget_get_accessible (GTK_WIDGET (entry));
  gboolean changed = FALSE;
  char *text;

  g_assert_false (gtk_entry_get_visibility (entry));
  g_assert_cmpstr (atk_object_get_name (accessible), ==, "Passphrase");
  g_assert_false (gtk_widget_get_sensitive (run));
  gtk_entry_set_text (entry, passphrase);
  flush_events ();
  g_assert_cmpint (gtk_widget_get_visible (GTK_WIDGET (confirm)), ==, exporting);
  if (exporting)
    {
      /* A typo in the second entry keeps the button off. */
      g_assert_false (gtk_widget_get_sensitive (run));
      gtk_entry_set_text (confirm, "typo");
      flush_events ();
      g_assert_false (gtk_widget_get_sensitive (run));
      gtk_entry_set_text (confirm, passphrase);
      flush_events ();
    }
  g_assert_true (gtk_widget_get_sensitive (run));

  g_signal_connect (status, "notify::label", G_CALLBACK (on_status_changed_cb), &changed);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  wait_for_flag (&changed);
  g_signal_handlers_disconnect_by_data (status, &changed);
  text = g_strdup (gtk_label_get_text (GTK_LABEL (status)));
  gtk_widget_destroy (GTK_WIDGET (dialog));
  flush_events ();
  return text;
}

static void
test_sync_file (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(PsTestPeer) source = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) target = ps_test_peer_new (TRUE);
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autofree char *path = g_build_filename (config_dir, "records.primero-sync", NULL);
  g_autofree char *exported = NULL;
  g_autofree char *imported = NULL;
  g_autofree char *again = NULL;
  PsServer *local = ps_server_store_get_local (ps_context_get_server_store (fixture->context));
  g_autofree char *local_url = g_strdup (ps_server_get_url (local));
  const char *types[] = { "child", NULL };

  ps_server_set_record_types (local, types);
  for (guint i = 0; i < 12; i++)
    g_ptr_array_add (records, ps_record_generator_child (rand, i));
  ps_test_peer_create_db (source, "primero_child_production");
  ps_test_peer_create_db (target, "primero_child_production");
  ps_test_peer_put_records (source, "primero_child_production", records);

  ps_server_set_url (local, ps_test_peer_get_url (source));

  /* A passphrase a dictionary finds keeps the button off, and says why. */
  {
    PsSyncFileDialog *weak = ps_sync_file_dialog_new_export (GTK_WINDOW (fixture->window),
                                                             fixture->context, path);
    GtkWidget *run = GTK_WIDGET (get_child (weak, PS_TYPE_SYNC_FILE_DIALOG, "run_button"));
    GtkLabel *why = GTK_LABEL (get_child (weak, PS_TYPE_SYNC_FILE_DIALOG, "strength_label"));

    gtk_entry_set_text (GTK_ENTRY (get_child (weak, PS_TYPE_SYNC_FILE_DIALOG,
                                              "passphrase_entry")), "password1");
    gtk_entry_set_text (GTK_ENTRY (get_child (weak, PS_TYPE_SYNC_FILE_DIALOG,
                                              "confirm_entry")), "password1");
    flush_events ();
    g_assert_false (gtk_widget_get_sensitive (run));
    g_assert_nonnull (strstr (gtk_label_get_text (why), "too easy to guess"));
    gtk_widget_destroy (GTK_WIDGET (weak));
    flush_events ();
  }

  exported = run_sync_file_dialog (ps_sync_file_dialog_new_export (GTK_WINDOW (fixture->window),
                                                                   fixture->context, path),
                                   "a long passphrase", TRUE);
  g_assert_nonnull (strstr (exported, "12 records"));

  ps_server_set_url (local, ps_test_peer_get_url (target));
  imported = run_sync_file_dialog (ps_sync_file_dialog_new_import (GTK_WINDOW (fixture->window),
                                                                   fixture->context, path),
                                   "a long passphrase", FALSE);
  g_assert_nonnull (strstr (imported, "Imported 12 of 12"));
  again = run_sync_file_dialog (ps_sync_file_dialog_new_import (GTK_WINDOW (fixture->window),
                                                                fixture->context, path),
                                "a long passphrase", FALSE);
  g_assert_nonnull (strstr (again, "Nothing new"));
  ps_test_assert_same_rev_trees (source, "primero_child_production",
                                 target, "primero_child_production");

  ps_server_set_url (local, local_url);
  ps_server_set_record_types (local, NULL);
  g_unlink (path);
}

/* On a metered connection (tests/metered-monitor) */

static void
assert_metered_network (void)
{
  GNetworkMonitor *monitor = g_network_monitor_get_default ();

  g_test_message ("network monitor: %s", G_OBJECT_TYPE_NAME (monitor));
  g_assert_true (g_network_monitor_get_network_metered (monitor));
}

/* This instance has cases that none of the servers has yet. */
static GPtrArray *
seed_metered_peers (PsTestPeer  *local,
                    PsTestPeer **remotes,
                    guint        n_remotes)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    {
      ps_test_peer_create_db (local, databases[d]);
      for (guint r = 0; r < n_remotes; r++)
        ps_test_peer_create_db (remotes[r], databases[d]);
    }
  for (guint i = 0; i < N_SHARED; i++)
    g_ptr_array_add (records, ps_record_generator_child (rand, i));
  put_records (local, records);

  return records;
}

static guint
count_toplevels (GType type)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();
  guint n = 0;

  for (GList *l = toplevels; l != NULL; l = l->next)
    {
      if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type) &&
          gtk_widget_get_visible (GTK_WIDGET (l->data)))
        n++;
    }

  return n;
}

/* The one question on the screen, over the window; returns its detail. */
static char *
find_metered_question (Fixture           *fixture,
                       GtkMessageDialog **question)
{
  g_autofree char *text = NULL;
  char *detail = NULL;

  flush_events ();
  g_assert_cmpuint (count_toplevels (GTK_TYPE_MESSAGE_DIALOG), ==, 1);
  *question = GTK_MESSAGE_DIALOG (find_toplevel (GTK_TYPE_MESSAGE_DIALOG));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (*question)) ==
                 GTK_WINDOW (fixture->window));
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (*question)));
  g_object_get (*question, "text", &text, "secondary-text", &detail, NULL);
  g_assert_cmpstr (text, ==, "This connection may cost money. Sync anyway?");

  return detail;
}

static void
answer_question (GtkMessageDialog *question,
                 int               response)
{
  gtk_dialog_response (GTK_DIALOG (question), response);
  flush_events ();
  g_assert_null (find_toplevel (GTK_TYPE_MESSAGE_DIALOG));
}

/* The server's job has not started: its row still says it never synced. */
static void
assert_not_started (Fixture  *fixture,
                    PsServer *server)
{
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);
  PsSyncJob *job = ps_sync_manager_get_job (manager, ps_server_get_id (server));

  g_assert_cmpint (ps_sync_job_get_state (job), ==, PS_SYNC_STATE_IDLE);
  g_assert_cmpstr (get_status (fixture, server), ==, "Never synced");
}

static void
assert_has_none (PsTestPeer *remote,
                 GPtrArray  *records)
{
  for (guint i = 0; i < records->len; i++)
    {
      JsonObject *record = json_node_get_object (g_ptr_array_index (records, i));

      g_assert_false (ps_test_peer_has_doc (remote, databases[0],
                                            json_object_get_string_member (record, "_id")));
    }
}

static void
assert_synced (PsTestPeer *local,
               PsTestPeer *remote)
{
  for (guint d = 0; d < G_N_ELEMENTS (databases); d++)
    ps_test_assert_same_rev_trees (local, databases[d], remote, databases[d]);
}

static void
test_metered_sync_now (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(PsTestPeer) local = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) remote = ps_test_peer_new (TRUE);
  g_autoptr(GPtrArray) records = seed_metered_peers (local, &remote, 1);
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  PsServer *this_instance = ps_server_store_get_local (store);
  g_autofree char *local_url = g_strdup (ps_server_get_url (this_instance));
  g_autoptr(PsServer) server = NULL;
  g_autofree char *detail = NULL;
  GtkMessageDialog *question;
  PsServerRow *row;

  assert_metered_network ();
  ps_server_set_url (this_instance, ps_test_peer_get_url (local));
  server = add_peer_server (fixture, "Field office", ps_test_peer_get_url (remote));

  /* Sync Now asks first, naming the server; Cancel leaves it alone. */
  row = find_server_row (fixture, server);
  gtk_button_clicked (GTK_BUTTON (get_child (row, PS_TYPE_SERVER_ROW, "sync_button")));
  detail = find_metered_question (fixture, &question);
  g_assert_cmpstr (detail, ==, "“Field office” is not set to sync over metered connections.");
  answer_question (question, GTK_RESPONSE_CANCEL);
  assert_not_started (fixture, server);
  assert_has_none (remote, records);

  /* Asked again, Sync Anyway syncs. */
  g_clear_pointer (&detail, g_free);
  row = find_server_row (fixture, server);
  gtk_button_clicked (GTK_BUTTON (get_child (row, PS_TYPE_SERVER_ROW, "sync_button")));
  detail = find_metered_question (fixture, &question);
  answer_question (question, GTK_RESPONSE_ACCEPT);
  wait_for_status (fixture, server, "Up to date");
  assert_synced (local, remote);

  ps_server_set_url (this_instance, local_url);
}

static void
test_metered_sync_all (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(PsTestPeer) local = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) field_peer = ps_test_peer_new (TRUE);
  g_autoptr(PsTestPeer) border_peer = ps_test_peer_new (TRUE);
  PsTestPeer *remotes[] = { field_peer, border_peer };
  g_autoptr(GPtrArray) records = seed_metered_peers (local, remotes, G_N_ELEMENTS (remotes));
  PsServerStore *store = ps_context_get_server_store (fixture->context);
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);
  PsServer *this_instance = ps_server_store_get_local (store);
  g_autofree char *local_url = g_strdup (ps_server_get_url (this_instance));
  g_autoptr(PsServer) field = NULL;
  g_autoptr(PsServer) border = NULL;
  g_autoptr(PsServer) allowed = NULL;
  g_autofree char *detail = NULL;
  GtkMessageDialog *question;
  PsSyncJob *allowed_job;

  assert_metered_network ();
  ps_server_set_url (this_instance, ps_test_peer_get_url (local));
  field = add_peer_server (fixture, "Field office", ps_test_peer_get_url (field_peer));
  border = add_peer_server (fixture, "Border post", ps_test_peer_get_url (border_peer));
  /* Head office shares the field office's server, and may use a metered
   * connection.
   */
  allowed = add_peer_server (fixture, "Head office", ps_test_peer_get_url (field_peer));
  ps_server_set_allow_metered (allowed, TRUE);
  allowed_job = ps_sync_manager_get_job (manager, ps_server_get_id (allowed));

  /* One question for the two servers that need leave; the third syncs
   * without asking. Cancel leaves those two alone.
   */
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "sync-all", NULL);
  detail = find_metered_question (fixture, &question);
  g_assert_cmpstr (detail, ==, "2 servers are not set to sync over metered connections. "
                               "1 other server is syncing.");
  g_assert_cmpint (ps_sync_job_get_state (allowed_job), !=, PS_SYNC_STATE_IDLE);
  answer_question (question, GTK_RESPONSE_CANCEL);
  assert_not_started (fixture, field);
  assert_not_started (fixture, border);
  assert_has_none (border_peer, records);
  wait_for_status (fixture, allowed, "Up to date");

  /* Asked again, Sync Anyway syncs both. */
  g_clear_pointer (&detail, g_free);
  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "sync-all", NULL);
  detail = find_metered_question (fixture, &question);
  answer_question (question, GTK_RESPONSE_ACCEPT);
  wait_for_status (fixture, field, "Up to date");
  wait_for_status (fixture, border, "Up to date");
  wait_for_status (fixture, allowed, "Up to date");
  assert_synced (local, field_peer);
  assert_synced (local, border_peer);

  ps_server_set_url (this_instance, local_url);
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

/* Runs after the window state's own handler, in the same emission. */
static void
on_window_size_allocate_cb (GtkWidget     *widget,
                            GtkAllocation *allocation,
                            gboolean      *resized)
{
  int width;
  int height;

  gtk_window_get_size (GTK_WINDOW (widget), &width, &height);
  *resized = width == 701 && height == 457;
}

/* A window opens at the size the user last left it. */
static void
test_window_state (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.primero.Sync");
  GtkWindow *window;
  gboolean resized = FALSE;
  gboolean destroyed = FALSE;
  int width = 0;
  int height = 0;

  window = GTK_WINDOW (gtk_window_new (GTK_WINDOW_TOPLEVEL));
  ps_window_state_bind (window, settings);
  gtk_window_get_default_size (window, &width, &height);
  g_assert_cmpint (width, ==, g_settings_get_int (settings, "window-width"));
  g_assert_cmpint (height, ==, g_settings_get_int (settings, "window-height"));

  g_signal_connect (window, "size-allocate", G_CALLBACK (on_window_size_allocate_cb), &resized);
  gtk_widget_show (GTK_WIDGET (window));
  gtk_window_resize (window, 701, 457);
  wait_for_flag (&resized);
  g_signal_connect (window, "destroy", G_CALLBACK (on_destroy_cb), &destroyed);
  gtk_widget_destroy (GTK_WIDGET (window));
  wait_for_flag (&destroyed);

  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 701);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 457);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));

  window = GTK_WINDOW (gtk_window_new (GTK_WINDOW_TOPLEVEL));
  ps_window_state_bind (window, settings);
  gtk_window_get_default_size (window, &width, &height);
  g_assert_cmpint (width, ==, 701);
  g_assert_cmpint (height, ==, 457);
  gtk_widget_destroy (GTK_WIDGET (window));

  g_settings_reset (settings, "window-width");
  g_settings_reset (settings, "window-height");
}

/* Preferences say how many servers Sync All starts at once; the sync
 * manager follows the setting.
 */
static void
test_preferences_max_jobs (Fixture       *fixture,
                           gconstpointer  user_data)
{
  GSettings *settings = ps_application_get_settings (fixture->app);
  PsSyncManager *manager = ps_context_get_sync_manager (fixture->context);
  GtkWidget *dialog;

  g_assert_cmpuint (ps_sync_manager_get_max_jobs (manager), ==,
                    g_settings_get_uint (settings, "max-concurrent-syncs"));

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "preferences", NULL);
  flush_events ();
  dialog = GTK_WIDGET (find_toplevel (PS_TYPE_PREFERENCES_DIALOG));
  g_assert_nonnull (dialog);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (get_child (dialog, PS_TYPE_PREFERENCES_DIALOG,
                                                         "max_jobs_spin")), 7);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  while (find_toplevel (PS_TYPE_PREFERENCES_DIALOG) != NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (g_settings_get_uint (settings, "max-concurrent-syncs"), ==, 7);
  g_assert_cmpuint (ps_sync_manager_get_max_jobs (manager), ==, 7);
  g_settings_reset (settings, "max-concurrent-syncs");
  g_assert_cmpuint (ps_sync_manager_get_max_jobs (manager), ==, 4);
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
  /* Notifications go to org.freedesktop.Notifications, which a test owns. */
  g_setenv ("GNOTIFICATION_BACKEND", "freedesktop", TRUE);

  g_test_init (&argc, &argv, NULL);
  gtk_init (&argc, &argv);

  /* On a metered network (the "ui-metered" test) a one-shot sync asks
   * first, so there only the tests of that question run.
   */
  if (g_strcmp0 (g_getenv ("GIO_USE_NETWORK_MONITOR"), "ps-test-metered") == 0)
    {
      g_test_add ("/ps/ui/metered/sync-now", Fixture, NULL,
                  fixture_set_up, test_metered_sync_now, fixture_tear_down);
      g_test_add ("/ps/ui/metered/sync-all", Fixture, NULL,
                  fixture_set_up, test_metered_sync_all, fixture_tear_down);
    }
  else
    {
      g_test_add ("/ps/ui/launch", Fixture, NULL,
                  fixture_set_up, test_launch, fixture_tear_down);
      g_test_add ("/ps/ui/server-dialog/validates", Fixture, NULL,
                  fixture_set_up, test_server_dialog_validates, fixture_tear_down);
      g_test_add ("/ps/ui/server-dialog/fits-small-screen", Fixture, NULL,
                  fixture_set_up, test_server_dialog_fits_small_screen, fixture_tear_down);
      g_test_add ("/ps/ui/server-dialog/saves", Fixture, NULL,
                  fixture_set_up, test_server_dialog_saves, fixture_tear_down);
      g_test_add ("/ps/ui/server-dialog/asks-about-address", Fixture, NULL,
                  fixture_set_up, test_server_dialog_asks_about_address, fixture_tear_down);
      g_test_add ("/ps/ui/preferences/max-jobs", Fixture, NULL,
                  fixture_set_up, test_preferences_max_jobs, fixture_tear_down);
      g_test_add ("/ps/ui/delete-server", Fixture, NULL,
                  fixture_set_up, test_delete_server, fixture_tear_down);
      g_test_add ("/ps/ui/server-page/focus", Fixture, NULL,
                  fixture_set_up, test_server_page_focus, fixture_tear_down);
      g_test_add ("/ps/ui/sync-and-conflicts", Fixture, NULL,
                  fixture_set_up, test_sync_and_conflicts, fixture_tear_down);
      g_test_add ("/ps/ui/failure-notifies", Fixture, NULL,
                  fixture_set_up, test_failure_notifies, fixture_tear_down);
      g_test_add ("/ps/ui/server-dialog/on-server-consent", Fixture, NULL,
                  fixture_set_up, test_server_dialog_on_server_consent, fixture_tear_down);
      g_test_add ("/ps/ui/on-server/crashing", Fixture, NULL,
                  fixture_set_up, test_on_server_crashing, fixture_tear_down);
      g_test_add ("/ps/ui/on-server/page-keeps-rows", Fixture, NULL,
                  fixture_set_up, test_on_server_page_keeps_rows, fixture_tear_down);
      g_test_add ("/ps/ui/sync-file", Fixture, NULL,
                  fixture_set_up, test_sync_file, fixture_tear_down);
      g_test_add ("/ps/ui/conflicts/names-and-search", Fixture, NULL,
                  fixture_set_up, test_conflicts_names_and_search, fixture_tear_down);
      g_test_add ("/ps/ui/conflicts/numbers-exact", Fixture, NULL,
                  fixture_set_up, test_conflicts_numbers_exact, fixture_tear_down);
      g_test_add ("/ps/ui/help", Fixture, NULL,
                  fixture_set_up, test_help, fixture_tear_down);
      g_test_add ("/ps/ui/server-dialog/tests-stored-password", Fixture, NULL,
                  fixture_set_up, test_server_dialog_tests_stored_password,
                  fixture_tear_down);
      g_test_add ("/ps/ui/diagnostics/fix", Fixture, NULL,
                  fixture_set_up, test_diagnostics_fix, fixture_tear_down);
      g_test_add_func ("/ps/ui/autostart", test_autostart);
      g_test_add_func ("/ps/ui/window-state", test_window_state);
    }

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

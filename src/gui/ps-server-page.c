/* ps-server-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-server-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-database-row.h"
#include "ps-json.h"
#include "ps-resolution.h"
#include "ps-server-page.h"
#include "ps-quiet-widgets.h"
#include "ps-sync-database.h"

#define MAX_HISTORY 50

/* One server in detail: its sync, database by database, and its history.
 * For a server kept in sync on the server, what CouchDB's replicator says
 * of each of its replications takes the place of the desktop's sync.
 */
struct _PsServerPage
{
  GtkBox        parent_instance;

  PsContext    *context;
  PsServer     *server;
  PsSyncJob    *job;
  GCancellable *read_cancellable;
  GBindingGroup *server_bindings;   /* the server's description and URL */
  GSignalGroup *job_signals;
  GSignalGroup *server_signals;     /* whether it is kept on the server */
  GHashTable   *replication_rows;   /* "direction/database" → its GtkListBoxRow */
  guint         replication_reading; /* counts the readings of the status shown */
  GSignalGroup *database_signals;   /* the job's list of databases */

  /* Template widgets */
  GtkButton    *back_button;
  GtkLabel     *description_label;
  GtkLabel     *url_label;
  GtkLabel     *status_label;
  GtkButton    *sync_button;
  GtkWidget    *error_box;
  GtkLabel     *error_label;
  GtkButton    *edit_button;
  GtkButton    *diagnose_button;
  GtkListBox   *database_list;
  GtkLabel     *databases_empty_label;
  GtkListBox   *history_list;
  GtkLabel     *history_empty_label;
  GtkWidget    *databases_box;
  GtkWidget    *replication_box;
  GtkLabel     *replication_state_label;
  GtkWidget    *replication_error_box;
  GtkLabel     *replication_error_label;
  GtkButton    *replication_edit_button;
  GtkButton    *replication_diagnose_button;
  GtkLabel     *replication_empty_label;
  GtkListBox   *replication_list;
};

G_DEFINE_FINAL_TYPE (PsServerPage, ps_server_page, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_SERVER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];


/*
 * Auxiliary methods
 */

static char *
describe_entry (JsonObject *entry)
{
  const char *kind = ps_json_get_string (entry, "kind");

  if (g_strcmp0 (kind, "failure") == 0)
    {
      const char *message = ps_json_get_string (entry, "message");

      /* Translators: %s is the reason, in plain words */
      return g_strdup_printf (_("Failed: %s"), message != NULL ? message : _("unknown error"));
    }
  else
    {
      JsonNode *databases = json_object_get_member (entry, "databases");
      gint64 received = 0;
      gint64 sent = 0;
      gint64 resolved = 0;
      g_autofree char *received_text = NULL;
      g_autofree char *sent_text = NULL;
      g_autofree char *resolved_text = NULL;

      for (guint i = 0; databases != NULL && JSON_NODE_HOLDS_ARRAY (databases) &&
                        i < json_array_get_length (json_node_get_array (databases)); i++)
        {
          JsonNode *item = json_array_get_element (json_node_get_array (databases), i);
          JsonObject *object;

          if (!JSON_NODE_HOLDS_OBJECT (item))
            continue;
          object = json_node_get_object (item);
          received += ps_json_get_int (ps_json_get_object (object, "pull"), "docs_written", 0);
          sent += ps_json_get_int (ps_json_get_object (object, "push"), "docs_written", 0);
          resolved += ps_json_get_int (object, "resolved", 0);
        }

      received_text = g_strdup_printf ("%" G_GINT64_FORMAT, received);
      sent_text = g_strdup_printf ("%" G_GINT64_FORMAT, sent);
      resolved_text = g_strdup_printf ("%" G_GINT64_FORMAT, resolved);
      /* Translators: “Synced: 12 documents received, 3 sent, 1 conflict resolved” */
      return g_strdup_printf (_("Synced: %s documents received, %s sent, %s conflicts resolved"),
                              received_text, sent_text, resolved_text);
    }
}

static GtkWidget *
new_history_row (JsonObject *entry)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  g_autofree char *time = ps_resolution_format_time (ps_json_get_string (entry, "time"));
  g_autofree char *text = describe_entry (entry);
  GtkWidget *time_label = gtk_label_new (time);
  GtkWidget *text_label = gtk_label_new (text);

  g_object_set (box, "margin-start", 12, "margin-end", 12, "margin-top", 8,
                "margin-bottom", 8, NULL);
  gtk_label_set_xalign (GTK_LABEL (time_label), 0);
  gtk_style_context_add_class (gtk_widget_get_style_context (time_label), "dim-label");
  gtk_label_set_xalign (GTK_LABEL (text_label), 0);
  gtk_label_set_line_wrap (GTK_LABEL (text_label), TRUE);
  gtk_label_set_line_wrap_mode (GTK_LABEL (text_label), PANGO_WRAP_WORD_CHAR);
  if (g_strcmp0 (ps_json_get_string (entry, "kind"), "failure") == 0)
    gtk_style_context_add_class (gtk_widget_get_style_context (text_label), "error");

  gtk_container_add (GTK_CONTAINER (box), time_label);
  gtk_container_add (GTK_CONTAINER (box), text_label);
  gtk_container_add (GTK_CONTAINER (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_show_all (row);

  return row;
}

static GtkWidget *
create_database_row_cb (gpointer item,
                        gpointer user_data)
{
  return GTK_WIDGET (ps_database_row_new (PS_SYNC_DATABASE (item)));
}

static const char *
describe_direction (PsSyncDirection direction)
{
  if (direction == PS_SYNC_DIRECTION_PUSH)
    return _("From this instance to the server");

  return _("From the server to this instance");
}

static char *
describe_counts (guint64 docs_written,
                 guint64 write_failures,
                 guint64 changes_pending)
{
  g_autofree char *written_text = g_strdup_printf ("%" G_GUINT64_FORMAT, docs_written);
  g_autofree char *failures_text = g_strdup_printf ("%" G_GUINT64_FORMAT, write_failures);
  g_autofree char *pending_text = g_strdup_printf ("%" G_GUINT64_FORMAT, changes_pending);

  /* Translators: “12 documents written, 0 write failures, 3 changes pending” */
  return g_strdup_printf (_("%s documents written, %s write failures, %s changes pending"),
                          written_text, failures_text, pending_text);
}

static GtkWidget *
new_dim_label (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_line_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_style_context_add_class (gtk_widget_get_style_context (label), "dim-label");

  return label;
}

/* What a replication's row changes in place, kept on the row. */
typedef struct
{
  GtkLabel *state_label;
  GtkLabel *counts_label;
  guint     position;   /* where the status lists it */
  guint     reading;    /* the last reading of the status that had it */
} ReplicationRow;

#define REPLICATION_ROW_KEY "ps-replication-row"

static ReplicationRow *
get_replication_row (GtkListBoxRow *row)
{
  return g_object_get_data (G_OBJECT (row), REPLICATION_ROW_KEY);
}

static int
sort_replication_rows_cb (GtkListBoxRow *row1,
                          GtkListBoxRow *row2,
                          gpointer       user_data)
{
  guint position1 = get_replication_row (row1)->position;
  guint position2 = get_replication_row (row2)->position;

  return (position1 > position2) - (position1 < position2);
}

/* One replication: a database, one way. Its words are set by
 * update_replication_row().
 */
static GtkWidget *
new_replication_row (const char      *database,
                     PsSyncDirection  direction)
{
  ReplicationRow *data = g_new0 (ReplicationRow, 1);
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *database_label = gtk_label_new (database);
  GtkWidget *state_label = gtk_label_new (NULL);
  GtkWidget *counts_label = new_dim_label (NULL);
  PangoAttrList *attributes = pango_attr_list_new ();

  g_object_set (box, "margin-start", 12, "margin-end", 12, "margin-top", 8,
                "margin-bottom", 8, NULL);
  pango_attr_list_insert (attributes, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  gtk_label_set_attributes (GTK_LABEL (database_label), attributes);
  pango_attr_list_unref (attributes);
  gtk_label_set_xalign (GTK_LABEL (database_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (database_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_hexpand (database_label, TRUE);

  gtk_container_add (GTK_CONTAINER (title_box), database_label);
  gtk_container_add (GTK_CONTAINER (title_box), state_label);
  gtk_container_add (GTK_CONTAINER (box), title_box);
  gtk_container_add (GTK_CONTAINER (box), new_dim_label (describe_direction (direction)));
  gtk_container_add (GTK_CONTAINER (box), counts_label);
  gtk_container_add (GTK_CONTAINER (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_show_all (row);

  data->state_label = GTK_LABEL (state_label);
  data->counts_label = GTK_LABEL (counts_label);
  g_object_set_data_full (G_OBJECT (row), REPLICATION_ROW_KEY, data, g_free);

  return row;
}

/* The row changes its words, not itself: a screen reader's place in the
 * list and the keyboard focus stay on it while the counts change.
 */
static void
update_replication_row (GtkListBoxRow             *row,
                        PsServerReplicationStatus *status,
                        guint                      i)
{
  ReplicationRow *data = get_replication_row (row);
  PsServerReplicationState state = ps_server_replication_status_get_entry_state (status, i);
  const char *database = ps_server_replication_status_get_entry_database (status, i);
  const char *direction = describe_direction (
    ps_server_replication_status_get_entry_direction (status, i));
  const char *state_text = ps_server_replication_state_to_label (state);
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (data->state_label));
  AtkObject *accessible = gtk_widget_get_accessible (GTK_WIDGET (row));
  g_autofree char *counts = NULL;
  g_autofree char *accessible_name = NULL;

  counts = describe_counts (ps_server_replication_status_get_entry_docs_written (status, i),
                            ps_server_replication_status_get_entry_write_failures (status, i),
                            ps_server_replication_status_get_entry_changes_pending (status, i));
  ps_quiet_label_set_text (data->state_label, state_text);
  ps_quiet_label_set_text (data->counts_label, counts);
  if (ps_server_replication_state_is_failing (state))
    gtk_style_context_add_class (style, "error");
  else
    gtk_style_context_remove_class (style, "error");

  /* A screen reader says the whole row at once, as it is seen. */
  accessible_name = g_strjoin (". ", database, direction, state_text, counts, NULL);
  if (g_strcmp0 (atk_object_get_name (accessible), accessible_name) != 0)
    atk_object_set_name (accessible, accessible_name);

  if (data->position != i)
    {
      data->position = i;
      gtk_list_box_row_changed (row);
    }
}

static gboolean
remove_stale_replication_row_cb (gpointer key,
                                 gpointer value,
                                 gpointer user_data)
{
  PsServerPage *self = user_data;

  if (get_replication_row (value)->reading == self->replication_reading)
    return FALSE;

  gtk_widget_destroy (GTK_WIDGET (value));
  return TRUE;
}

static void
clear_replication_rows (PsServerPage *self)
{
  g_autoptr(GList) children = NULL;

  /* Nothing is left to clear once the page is disposed. */
  if (self->replication_rows == NULL)
    return;

  children = gtk_container_get_children (GTK_CONTAINER (self->replication_list));
  for (GList *l = children; l != NULL; l = l->next)
    gtk_widget_destroy (GTK_WIDGET (l->data));
  g_hash_table_remove_all (self->replication_rows);
  gtk_widget_show (GTK_WIDGET (self->replication_empty_label));
}

/* One row per database and direction: rows come and go only with the
 * replications themselves, in the order the status lists them.
 */
static void
update_replication_rows (PsServerPage              *self,
                         PsServerReplicationStatus *status)
{
  guint n_entries = status != NULL ? ps_server_replication_status_get_n_entries (status) : 0;

  self->replication_reading++;
  for (guint i = 0; i < n_entries; i++)
    {
      const char *database = ps_server_replication_status_get_entry_database (status, i);
      PsSyncDirection direction = ps_server_replication_status_get_entry_direction (status, i);
      g_autofree char *key = g_strdup_printf ("%d/%s", direction, database);
      GtkWidget *row = g_hash_table_lookup (self->replication_rows, key);

      if (row == NULL)
        {
          row = new_replication_row (database, direction);
          get_replication_row (GTK_LIST_BOX_ROW (row))->position = i;
          g_hash_table_insert (self->replication_rows, g_steal_pointer (&key), row);
          gtk_container_add (GTK_CONTAINER (self->replication_list), row);
        }
      update_replication_row (GTK_LIST_BOX_ROW (row), status, i);
      get_replication_row (GTK_LIST_BOX_ROW (row))->reading = self->replication_reading;
    }
  g_hash_table_foreach_remove (self->replication_rows, remove_stale_replication_row_cb, self);
  gtk_widget_set_visible (GTK_WIDGET (self->replication_empty_label), n_entries == 0);
}

static void
update_replication_state (PsServerPage *self)
{
  PsSyncManager *manager = ps_context_get_sync_manager (self->context);
  PsServerReplicationStatus *status;
  PsServerReplicationState state = PS_SERVER_REPLICATION_STATE_UNKNOWN;
  g_autofree char *state_text = NULL;
  const char *error = NULL;
  gboolean failing;

  status = ps_sync_manager_get_server_replication (manager, self->server);
  if (status != NULL)
    {
      state = ps_server_replication_status_get_state (status);
      error = ps_server_replication_status_get_error (status);
    }
  failing = ps_server_replication_state_is_failing (state);

  /* Translators: %s is the state of a replication, e.g. “Running” */
  state_text = g_strdup_printf (_("State: %s"), ps_server_replication_state_to_label (state));
  ps_quiet_label_set_text (self->replication_state_label, state_text);

  ps_quiet_label_set_text (self->replication_error_label, error != NULL ? error : "");
  gtk_widget_set_visible (self->replication_error_box, error != NULL && *error != '\0');
  gtk_widget_set_visible (GTK_WIDGET (self->replication_edit_button), failing);
  gtk_widget_set_visible (GTK_WIDGET (self->replication_diagnose_button), failing);

  ps_quiet_button_set (self->sync_button, _("_Update Server Replication"), "win.sync-server",
                       _("Write this server’s replication documents into this "
                         "instance’s CouchDB again"));

  update_replication_rows (self, status);
}

static void
update_job_state (PsServerPage *self)
{
  g_autofree char *status = NULL;
  const char *error;
  PsSyncState state;
  gboolean on_server;

  if (self->job == NULL)
    return;

  /* CouchDB syncs it: the desktop's sync has nothing to show. */
  on_server = ps_server_get_on_server (self->server);
  gtk_widget_set_visible (self->replication_box, on_server);
  gtk_widget_set_visible (self->databases_box, !on_server);
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), !on_server);
  if (on_server)
    {
      gtk_widget_hide (self->error_box);
      update_replication_state (self);
      return;
    }
  state = ps_sync_job_get_state (self->job);
  status = ps_sync_job_dup_status_text (self->job);
  ps_quiet_label_set_text (self->status_label, status != NULL ? status : "");

  error = ps_sync_job_get_error_message (self->job);
  ps_quiet_label_set_text (self->error_label, error != NULL ? error : "");
  gtk_widget_set_visible (self->error_box, error != NULL && *error != '\0' &&
                                           state != PS_SYNC_STATE_UP_TO_DATE);
  /* A refused password is mended in the server's dialog, not diagnosed. */
  gtk_widget_set_visible (GTK_WIDGET (self->edit_button),
                          g_error_matches (ps_sync_job_get_error (self->job),
                                           PS_COUCH_ERROR, PS_COUCH_ERROR_UNAUTHORIZED));

  if (ps_sync_job_get_running (self->job) || state == PS_SYNC_STATE_QUEUED)
    ps_quiet_button_set (self->sync_button, _("_Stop"), "win.stop-server", NULL);
  else
    ps_quiet_button_set (self->sync_button, _("_Sync Now"), "win.sync-server", NULL);

  gtk_widget_set_visible (GTK_WIDGET (self->databases_empty_label),
                          g_list_model_get_n_items (ps_sync_job_get_databases (self->job)) == 0);
}

static int
compare_entries_newest_first (gconstpointer a,
                              gconstpointer b)
{
  JsonObject *entry_a = *(JsonObject **) a;
  JsonObject *entry_b = *(JsonObject **) b;

  /* ISO 8601 times in UTC sort as strings. */
  return -g_strcmp0 (ps_json_get_string (entry_a, "time"), ps_json_get_string (entry_b, "time"));
}

static void
read_history_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  PsJournal *journal = PS_JOURNAL (source_object);
  PsJournalFilter filter = { 0, };
  g_autoptr(GPtrArray) syncs = NULL;
  g_autoptr(GPtrArray) failures = NULL;
  GError *error = NULL;

  filter.server = task_data;
  filter.max_entries = MAX_HISTORY;

  filter.kind = "sync";
  syncs = ps_journal_read (journal, &filter, &error);
  if (syncs == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  filter.kind = "failure";
  failures = ps_journal_read (journal, &filter, &error);
  if (failures == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  for (guint i = 0; i < failures->len; i++)
    g_ptr_array_add (syncs, json_object_ref (g_ptr_array_index (failures, i)));
  g_ptr_array_sort (syncs, compare_entries_newest_first);
  if (syncs->len > MAX_HISTORY)
    g_ptr_array_set_size (syncs, MAX_HISTORY);

  g_task_return_pointer (task, g_steal_pointer (&syncs), (GDestroyNotify) g_ptr_array_unref);
}

static void
on_history_read_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(PsServerPage) self = PS_SERVER_PAGE (user_data);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GList) children = NULL;
  g_autoptr(GError) error = NULL;

  entries = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  children = gtk_container_get_children (GTK_CONTAINER (self->history_list));
  for (GList *l = children; l != NULL; l = l->next)
    gtk_widget_destroy (GTK_WIDGET (l->data));

  if (entries == NULL)
    {
      gtk_label_set_text (self->history_empty_label, error->message);
      gtk_widget_show (GTK_WIDGET (self->history_empty_label));
      return;
    }

  /* CouchDB's own syncs are not in this computer's history. */
  if (self->server != NULL && ps_server_get_on_server (self->server))
    gtk_label_set_text (self->history_empty_label,
                        _("This server has not been synced from this computer. This "
                          "instance’s CouchDB syncs it."));
  else
    gtk_label_set_text (self->history_empty_label, _("This server has not been synced yet."));
  gtk_widget_set_visible (GTK_WIDGET (self->history_empty_label), entries->len == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->history_list), entries->len > 0);
  for (guint i = 0; i < entries->len; i++)
    gtk_container_add (GTK_CONTAINER (self->history_list),
                       new_history_row (g_ptr_array_index (entries, i)));
}

static void
refresh_history (PsServerPage *self)
{
  g_autoptr(GTask) task = NULL;

  g_cancellable_cancel (self->read_cancellable);
  g_clear_object (&self->read_cancellable);

  if (self->server == NULL)
    return;

  self->read_cancellable = g_cancellable_new ();
  task = g_task_new (ps_context_get_journal (self->context), self->read_cancellable,
                     on_history_read_cb, g_object_ref (self));
  g_task_set_source_tag (task, refresh_history);
  g_task_set_task_data (task, g_strdup (ps_server_get_id (self->server)), g_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, read_history_thread);
}


/*
 * Callbacks
 */

static void
on_job_notify_cb (PsSyncJob    *job,
                  GParamSpec   *pspec,
                  PsServerPage *self)
{
  update_job_state (self);
}

static void
on_server_notify_on_server_cb (PsServer     *server,
                               GParamSpec   *pspec,
                               PsServerPage *self)
{
  update_job_state (self);
  refresh_history (self);
}

static void
on_server_replication_changed_cb (PsSyncManager *manager,
                                  PsServer      *server,
                                  PsServerPage  *self)
{
  if (server == self->server)
    update_job_state (self);
}

static void
on_databases_items_changed_cb (GListModel   *model,
                               guint         position,
                               guint         removed,
                               guint         added,
                               PsServerPage *self)
{
  update_job_state (self);
}

static void
on_journal_entry_added_cb (PsJournal    *journal,
                           JsonObject   *entry,
                           PsServerPage *self)
{
  const char *kind = ps_json_get_string (entry, "kind");

  if (self->server != NULL &&
      g_strcmp0 (ps_json_get_string (entry, "server"), ps_server_get_id (self->server)) == 0 &&
      (g_strcmp0 (kind, "sync") == 0 || g_strcmp0 (kind, "failure") == 0))
    refresh_history (self);
}

/*
 * GtkWidget overrides
 */

/* Focus coming into the page from outside (as when the page opens from
 * the keyboard) skips the address: a selectable label takes the focus with
 * its text selected. Tab still reaches it from the page's first button,
 * for copying.
 */
static gboolean
ps_server_page_focus (GtkWidget        *widget,
                      GtkDirectionType  direction)
{
  PsServerPage *self = PS_SERVER_PAGE (widget);
  GtkWidget *url_label = GTK_WIDGET (self->url_label);
  gboolean handled;

  if (direction != GTK_DIR_TAB_FORWARD ||
      gtk_container_get_focus_child (GTK_CONTAINER (self)) != NULL ||
      !gtk_widget_get_can_focus (url_label))
    return GTK_WIDGET_CLASS (ps_server_page_parent_class)->focus (widget, direction);

  gtk_widget_set_can_focus (url_label, FALSE);
  handled = GTK_WIDGET_CLASS (ps_server_page_parent_class)->focus (widget, direction);
  gtk_widget_set_can_focus (url_label, TRUE);

  return handled;
}


/*
 * GObject overrides
 */

static void
ps_server_page_constructed (GObject *object)
{
  PsServerPage *self = (PsServerPage *)object;

  G_OBJECT_CLASS (ps_server_page_parent_class)->constructed (object);

  g_assert (PS_IS_CONTEXT (self->context));

  g_signal_connect_object (ps_context_get_journal (self->context), "entry-added",
                           G_CALLBACK (on_journal_entry_added_cb), self, 0);
  g_signal_connect_object (ps_context_get_sync_manager (self->context),
                           "server-replication-changed",
                           G_CALLBACK (on_server_replication_changed_cb), self, 0);
}

static void
ps_server_page_dispose (GObject *object)
{
  PsServerPage *self = (PsServerPage *)object;

  g_cancellable_cancel (self->read_cancellable);
  g_clear_object (&self->read_cancellable);
  if (self->database_list != NULL)
    gtk_list_box_bind_model (self->database_list, NULL, NULL, NULL, NULL);
  g_clear_object (&self->server_bindings);
  g_clear_object (&self->job_signals);
  g_clear_object (&self->server_signals);
  g_clear_object (&self->database_signals);
  /* The rows are the list's, and go with it. */
  g_clear_pointer (&self->replication_rows, g_hash_table_unref);
  g_clear_object (&self->job);
  g_clear_object (&self->server);

  G_OBJECT_CLASS (ps_server_page_parent_class)->dispose (object);
}

static void
ps_server_page_finalize (GObject *object)
{
  PsServerPage *self = (PsServerPage *)object;

  g_clear_object (&self->context);

  G_OBJECT_CLASS (ps_server_page_parent_class)->finalize (object);
}

static void
ps_server_page_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PsServerPage *self = PS_SERVER_PAGE (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;

    case PROP_SERVER:
      g_value_set_object (value, self->server);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_server_page_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  PsServerPage *self = PS_SERVER_PAGE (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_assert (self->context == NULL);
      self->context = g_value_dup_object (value);
      break;

    case PROP_SERVER:
      ps_server_page_set_server (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_server_page_class_init (PsServerPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = ps_server_page_constructed;
  object_class->dispose = ps_server_page_dispose;
  object_class->finalize = ps_server_page_finalize;
  object_class->get_property = ps_server_page_get_property;
  object_class->set_property = ps_server_page_set_property;

  widget_class->focus = ps_server_page_focus;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL,
                         PS_TYPE_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  properties[PROP_SERVER] =
    g_param_spec_object ("server", NULL, NULL,
                         PS_TYPE_SERVER,
                         G_PARAM_READWRITE |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-server-page.ui");

  gtk_widget_class_bind_template_child (widget_class, PsServerPage, back_button);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, description_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, url_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, sync_button);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, error_box);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, diagnose_button);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, edit_button);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, database_list);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, databases_empty_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, history_list);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, history_empty_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, databases_box);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, replication_box);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, replication_state_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, replication_error_box);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, replication_error_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, replication_edit_button);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage,
                                        replication_diagnose_button);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, replication_empty_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerPage, replication_list);
}

static void
ps_server_page_init (PsServerPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->replication_rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gtk_list_box_set_sort_func (self->replication_list, sort_replication_rows_cb, NULL, NULL);

  /* The page follows whatever server it shows, and drops its handlers
   * when it shows another one.
   */
  self->server_bindings = g_binding_group_new ();
  g_binding_group_bind (self->server_bindings, "description",
                        self->description_label, "label", G_BINDING_SYNC_CREATE);
  g_binding_group_bind (self->server_bindings, "url",
                        self->url_label, "label", G_BINDING_SYNC_CREATE);

  self->job_signals = g_signal_group_new (PS_TYPE_SYNC_JOB);
  g_signal_group_connect_object (self->job_signals, "notify",
                                 G_CALLBACK (on_job_notify_cb), self, 0);

  self->server_signals = g_signal_group_new (PS_TYPE_SERVER);
  g_signal_group_connect_object (self->server_signals, "notify::on-server",
                                 G_CALLBACK (on_server_notify_on_server_cb), self, 0);

  self->database_signals = g_signal_group_new (G_TYPE_LIST_STORE);
  g_signal_group_connect_object (self->database_signals, "items-changed",
                                 G_CALLBACK (on_databases_items_changed_cb), self, 0);
}


/*
 * Public API
 */

PsServerPage *
ps_server_page_new (PsContext *context)
{
  g_return_val_if_fail (PS_IS_CONTEXT (context), NULL);

  return g_object_new (PS_TYPE_SERVER_PAGE,
                       "context", context,
                       NULL);
}

PsServer *
ps_server_page_get_server (PsServerPage *self)
{
  g_return_val_if_fail (PS_IS_SERVER_PAGE (self), NULL);

  return self->server;
}

/**
 * ps_server_page_set_server:
 * @self: a #PsServerPage
 * @server: (nullable): the server to show
 */
void
ps_server_page_set_server (PsServerPage *self,
                           PsServer     *server)
{
  g_autoptr(GVariant) target = NULL;

  g_return_if_fail (PS_IS_SERVER_PAGE (self));
  g_return_if_fail (server == NULL || PS_IS_SERVER (server));

  if (self->server == server)
    return;

  g_clear_object (&self->job);
  g_set_object (&self->server, server);
  g_binding_group_set_source (self->server_bindings, server);
  g_signal_group_set_target (self->server_signals, server);
  g_signal_group_set_target (self->job_signals, NULL);
  g_signal_group_set_target (self->database_signals, NULL);
  gtk_list_box_bind_model (self->database_list, NULL, NULL, NULL, NULL);
  clear_replication_rows (self);

  if (server != NULL)
    {
      GListModel *databases;

      self->job = g_object_ref (ps_sync_manager_get_job (ps_context_get_sync_manager (self->context),
                                                         ps_server_get_id (server)));
      databases = ps_sync_job_get_databases (self->job);

      target = g_variant_ref_sink (g_variant_new_string (ps_server_get_id (server)));
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->sync_button), target);
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->diagnose_button), target);
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->edit_button), target);
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->replication_edit_button),
                                              target);
      gtk_actionable_set_action_target_value (
        GTK_ACTIONABLE (self->replication_diagnose_button), target);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->replication_edit_button),
                                      "win.edit-server");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->replication_diagnose_button),
                                      "win.diagnose-server");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->edit_button), "win.edit-server");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->diagnose_button),
                                      "win.diagnose-server");

      gtk_list_box_bind_model (self->database_list, databases,
                               create_database_row_cb, NULL, NULL);
      g_signal_group_set_target (self->job_signals, self->job);
      g_signal_group_set_target (self->database_signals, databases);
      update_job_state (self);
    }

  refresh_history (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER]);
}

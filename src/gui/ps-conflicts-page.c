/* ps-conflicts-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-conflicts-page"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-conflicts-page.h"
#include "ps-decision-card.h"
#include "ps-json.h"
#include "ps-record-edit.h"
#include "ps-resolution-row.h"
#include "ps-resolution.h"
#include "ps-server-access.h"

#include <string.h>

/* The journal is read in a thread; this many resolutions are plenty to look through. */
#define MAX_RESOLUTIONS 1000

struct _PsConflictsPage
{
  GtkBox             parent_instance;

  PsContext          *context;
  GListStore         *resolutions;
  GCancellable       *read_cancellable;
  GCancellable       *edit_cancellable;
  GSimpleActionGroup *actions;
  GPtrArray          *entries;
  PsJsonTexts        *texts;  /* of @entries' numbers, as journaled */
  gboolean           updating_filters;

  /* Template widgets */
  GtkComboBoxText    *server_combo;
  GtkComboBoxText    *type_combo;
  GtkSearchEntry     *search_entry;
  GtkInfoBar         *message_bar;
  GtkLabel           *message_label;
  GtkStack           *content_stack;
  GtkListBox         *resolution_list;
  GtkStack           *detail_stack;
  GtkLabel           *record_label;
  GtkLabel           *record_details_label;
  GtkBox             *fields_box;
};

G_DEFINE_FINAL_TYPE (PsConflictsPage, ps_conflicts_page, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_CONTEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  char        *server;
  PsJsonTexts *texts;  /* of the entries read */
} ReadData;

static void
read_data_free (ReadData *data)
{
  g_clear_pointer (&data->server, g_free);
  g_clear_pointer (&data->texts, ps_json_texts_unref);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReadData, read_data_free)

/* What "Use This Value Instead" changes, carried from the button. */
typedef struct
{
  char        *server;
  char        *database;
  char        *record;
  char        *path;
  JsonNode    *value;
  PsJsonTexts *value_texts;
} EditData;

static void
edit_data_free (EditData *data)
{
  g_clear_pointer (&data->server, g_free);
  g_clear_pointer (&data->database, g_free);
  g_clear_pointer (&data->record, g_free);
  g_clear_pointer (&data->path, g_free);
  g_clear_pointer (&data->value_texts, ps_json_texts_unref);
  g_clear_pointer (&data->value, json_node_unref);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EditData, edit_data_free)


/*
 * Auxiliary methods
 */

static const char *
get_server_description (PsConflictsPage *self,
                        const char      *server_id)
{
  PsServer *server;

  if (server_id == NULL)
    return NULL;

  server = ps_server_store_lookup (ps_context_get_server_store (self->context), server_id);
  return server != NULL ? ps_server_get_description (server) : NULL;
}

static void
show_message (PsConflictsPage *self,
              GtkMessageType   type,
              const char      *message)
{
  gtk_info_bar_set_message_type (self->message_bar, type);
  gtk_label_set_text (self->message_label, message);
  gtk_info_bar_set_revealed (self->message_bar, TRUE);
}

static GtkWidget *
new_label (const char *text,
           const char *style_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_line_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  if (style_class != NULL)
    gtk_style_context_add_class (gtk_widget_get_style_context (label), style_class);
  gtk_widget_show (label);

  return label;
}

static void
show_resolution (PsConflictsPage *self,
                 PsResolution    *resolution)
{
  g_autoptr(GList) children = NULL;
  g_autofree char *type = NULL;
  g_autofree char *time = NULL;
  g_autofree char *details = NULL;
  const char *server;
  JsonArray *decisions;

  children = gtk_container_get_children (GTK_CONTAINER (self->fields_box));
  for (GList *l = children; l != NULL; l = l->next)
    gtk_widget_destroy (GTK_WIDGET (l->data));

  if (resolution == NULL)
    {
      gtk_stack_set_visible_child_name (self->detail_stack, "none");
      return;
    }

  type = ps_resolution_dup_type_label (ps_resolution_get_record_type (resolution));
  time = ps_resolution_format_time (ps_resolution_get_time (resolution));
  server = get_server_description (self, ps_resolution_get_server_id (resolution));

  /* Translators: “RECORD TYPE, resolved while syncing with SERVER on DATE AND TIME” */
  details = g_strdup_printf (_("%s, resolved while syncing with %s, %s"), type,
                             server != NULL ? server : _("an unknown server"), time);
  if (ps_resolution_get_name (resolution) != NULL)
    {
      g_autofree char *title = NULL;

      /* Translators: a record's name and the id Primero shows, e.g. “Hauwa Yusuf (0011)” */
      title = g_strdup_printf (_("%s (%s)"), ps_resolution_get_name (resolution),
                               ps_resolution_get_display_id (resolution));
      gtk_label_set_text (self->record_label, title);
    }
  else
    gtk_label_set_text (self->record_label, ps_resolution_get_display_id (resolution));
  gtk_label_set_text (self->record_details_label, details);

  decisions = ps_resolution_get_decisions (resolution);
  if (decisions == NULL || json_array_get_length (decisions) == 0)
    gtk_container_add (GTK_CONTAINER (self->fields_box),
                       new_label (_("The edits touched different fields and were merged "
                                    "without contest."), "dim-label"));

  for (guint i = 0; decisions != NULL && i < json_array_get_length (decisions); i++)
    {
      JsonNode *decision = json_array_get_element (decisions, i);

      if (JSON_NODE_HOLDS_OBJECT (decision))
        gtk_container_add (GTK_CONTAINER (self->fields_box),
                           ps_decision_card_new (resolution, json_node_get_object (decision)));
    }

  gtk_stack_set_visible_child_name (self->detail_stack, "details");
}

static GtkWidget *
create_row_cb (gpointer item,
               gpointer user_data)
{
  PsConflictsPage *self = PS_CONFLICTS_PAGE (user_data);
  PsResolution *resolution = PS_RESOLUTION (item);

  return GTK_WIDGET (ps_resolution_row_new (resolution,
                                            get_server_description (
                                              self, ps_resolution_get_server_id (resolution))));
}

static void
fill_server_combo (PsConflictsPage *self)
{
  GListModel *servers = G_LIST_MODEL (ps_context_get_server_store (self->context));
  g_autofree char *active = g_strdup (gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->server_combo)));

  self->updating_filters = TRUE;
  gtk_combo_box_text_remove_all (self->server_combo);
  gtk_combo_box_text_append (self->server_combo, "", _("All servers"));
  for (guint i = 0; i < g_list_model_get_n_items (servers); i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (servers, i);

      gtk_combo_box_text_append (self->server_combo, ps_server_get_id (server),
                                 ps_server_get_description (server));
    }
  if (active == NULL || !gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->server_combo), active))
    gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->server_combo), "");
  self->updating_filters = FALSE;
}

/* The record types offered are those among the server's resolutions. */
static void
fill_type_combo (PsConflictsPage *self,
                 GPtrArray       *entries)
{
  g_autofree char *active = g_strdup (gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->type_combo)));
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  self->updating_filters = TRUE;
  gtk_combo_box_text_remove_all (self->type_combo);
  gtk_combo_box_text_append (self->type_combo, "", _("All record types"));
  for (guint i = 0; i < entries->len; i++)
    {
      g_autoptr(PsResolution) resolution = ps_resolution_new (g_ptr_array_index (entries, i));
      const char *type = ps_resolution_get_record_type (resolution);
      g_autofree char *label = NULL;

      if (type == NULL || !g_hash_table_add (seen, (gpointer) type))
        continue;
      label = ps_resolution_dup_type_label (type);
      gtk_combo_box_text_append (self->type_combo, type, label);
    }
  if (active == NULL || !gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->type_combo), active))
    gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->type_combo), "");
  self->updating_filters = FALSE;
}

static void
read_journal_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  PsJournal *journal = PS_JOURNAL (source_object);
  ReadData *data = task_data;
  PsJournalFilter filter = { 0, };
  GPtrArray *entries;
  GError *error = NULL;

  filter.server = data->server;
  filter.kind = "resolution";
  filter.max_entries = MAX_RESOLUTIONS;

  entries = ps_journal_read_with_texts (journal, &filter, &data->texts, &error);
  if (entries == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, entries, (GDestroyNotify) g_ptr_array_unref);
}

/* The resolutions last read, of the record type chosen and matching the
 * search: the search needs no new read of the journal.
 */
static void
show_matching (PsConflictsPage *self)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(PsResolution) selected = NULL;
  GtkListBoxRow *row;
  const char *type;
  const char *search;

  if (self->entries == NULL)
    return;

  type = gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->type_combo));
  search = gtk_entry_get_text (GTK_ENTRY (self->search_entry));

  items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->entries->len; i++)
    {
      g_autoptr(PsResolution) resolution = NULL;

      resolution = ps_resolution_new_with_texts (g_ptr_array_index (self->entries, i),
                                                 self->texts);

      if (type != NULL && *type != '\0' &&
          g_strcmp0 (ps_resolution_get_record_type (resolution), type) != 0)
        continue;
      if (!ps_resolution_matches (resolution, search))
        continue;
      g_ptr_array_add (items, g_steal_pointer (&resolution));
    }

  row = gtk_list_box_get_selected_row (self->resolution_list);
  if (row != NULL)
    selected = g_object_ref (ps_resolution_row_get_resolution (PS_RESOLUTION_ROW (row)));

  g_list_store_splice (self->resolutions, 0,
                       g_list_model_get_n_items (G_LIST_MODEL (self->resolutions)),
                       items->pdata, items->len);

  if (items->len > 0)
    gtk_stack_set_visible_child_name (self->content_stack, "list");
  else if (search != NULL && *search != '\0' && self->entries->len > 0)
    gtk_stack_set_visible_child_name (self->content_stack, "no-match");
  else
    gtk_stack_set_visible_child_name (self->content_stack, "empty");

  /* Keep the record the user was reading. */
  for (guint i = 0; selected != NULL && i < items->len; i++)
    {
      if (ps_resolution_equal (selected, g_ptr_array_index (items, i)))
        {
          gtk_list_box_select_row (self->resolution_list,
                                   gtk_list_box_get_row_at_index (self->resolution_list, i));
          return;
        }
    }

  /* Master and detail side by side: the newest record is shown at once. */
  if (items->len > 0)
    gtk_list_box_select_row (self->resolution_list,
                             gtk_list_box_get_row_at_index (self->resolution_list, 0));
  else
    show_resolution (self, NULL);
}

static void
on_journal_read_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(PsConflictsPage) self = PS_CONFLICTS_PAGE (user_data);
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  entries = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (entries == NULL)
    {
      show_message (self, GTK_MESSAGE_ERROR, error->message);
      return;
    }

  fill_type_combo (self, entries);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->texts, ps_json_texts_unref);
  self->entries = g_steal_pointer (&entries);
  self->texts = g_steal_pointer (&((ReadData *) g_task_get_task_data (G_TASK (result)))->texts);
  show_matching (self);
}

static void
on_record_edited_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(PsConflictsPage) self = PS_CONFLICTS_PAGE (user_data);
  g_autoptr(GError) error = NULL;
  GAction *action;

  if (!ps_record_edit_set_field_finish (result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "use-value");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), TRUE);

  if (error != NULL)
    {
      g_autofree char *message = NULL;

      /* Translators: %s says why, e.g. “The record … is not in the database …” */
      message = g_strdup_printf (_("The record could not be changed: %s"), error->message);
      show_message (self, GTK_MESSAGE_ERROR, message);
      return;
    }

  show_message (self, GTK_MESSAGE_INFO,
                _("The record was changed on this instance. The next sync carries the "
                  "change to the other servers."));
}

static void
edit_record (PsConflictsPage *self,
             EditData        *data,
             PsServerAccess  *access)
{
  g_autoptr(PsCouchDatabase) database = NULL;
  g_autoptr(GError) error = NULL;

  database = ps_server_access_open_database (access, data->database, &error);
  if (database == NULL)
    {
      GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "use-value");

      g_simple_action_set_enabled (G_SIMPLE_ACTION (action), TRUE);
      show_message (self, GTK_MESSAGE_ERROR, error->message);
      return;
    }

  ps_record_edit_set_field_async (database, data->record, data->path, data->value,
                                  data->value_texts, ps_context_get_journal (self->context),
                                  *data->server != '\0' ? data->server : NULL,
                                  self->edit_cancellable, on_record_edited_cb,
                                  g_object_ref (self));
}

static void
on_local_access_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = G_TASK (user_data);
  PsConflictsPage *self = g_task_get_source_object (task);
  g_autoptr(PsServerAccess) access = NULL;
  g_autoptr(GError) error = NULL;

  access = ps_server_access_new_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* Without the password, the server says what it refuses. */
  if (access == NULL)
    access = ps_server_access_new (ps_server_store_get_local (
                                     ps_context_get_server_store (self->context)),
                                   ps_context_get_session (self->context), NULL);
  edit_record (self, g_task_get_task_data (task), access);
}

/*
 * Callbacks
 */

static void
on_use_value_activated_cb (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  PsConflictsPage *self = PS_CONFLICTS_PAGE (user_data);
  g_autoptr(EditData) data = g_new0 (EditData, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value_bytes = NULL;
  PsServer *local;
  const char *value_json;
  GTask *task;

  g_variant_get (parameter, "(ssss&s)", &data->server, &data->database, &data->record,
                 &data->path, &value_json);
  /* Read with its text: json-glib alone would round a big integer, and
   * putting the value back would change the record's data.
   */
  value_bytes = g_bytes_new (value_json, strlen (value_json));
  data->value_texts = ps_json_texts_new ();
  data->value = ps_json_texts_parse (data->value_texts, value_bytes, PS_JSON_MAX_DEPTH, &error);
  if (error != NULL)
    {
      show_message (self, GTK_MESSAGE_ERROR, error->message);
      return;
    }

  gtk_info_bar_set_revealed (self->message_bar, FALSE);
  g_simple_action_set_enabled (action, FALSE);

  local = ps_server_store_get_local (ps_context_get_server_store (self->context));
  task = g_task_new (self, self->edit_cancellable, NULL, NULL);
  g_task_set_source_tag (task, on_use_value_activated_cb);
  g_task_set_task_data (task, g_steal_pointer (&data), (GDestroyNotify) edit_data_free);
  ps_server_access_new_async (local, ps_context_get_session (self->context),
                              self->edit_cancellable, on_local_access_cb, task);
}

static void
on_journal_entry_added_cb (PsJournal       *journal,
                           JsonObject      *entry,
                           PsConflictsPage *self)
{
  const char *kind = ps_json_get_string (entry, "kind");

  /* A resolution is journaled before it is written, and its outcome after:
   * one the server refused leaves the page.
   */
  if (g_strcmp0 (kind, "resolution") == 0 || g_strcmp0 (kind, "resolution-outcome") == 0)
    ps_conflicts_page_refresh (self);
}

static void
on_server_store_items_changed_cb (GListModel      *model,
                                  guint            position,
                                  guint            removed,
                                  guint            added,
                                  PsConflictsPage *self)
{
  fill_server_combo (self);
  ps_conflicts_page_refresh (self);
}

static void
on_filter_changed_cb (GtkComboBox     *combo,
                      PsConflictsPage *self)
{
  if (!self->updating_filters)
    ps_conflicts_page_refresh (self);
}

static void
on_search_entry_search_changed_cb (GtkSearchEntry  *entry,
                                   PsConflictsPage *self)
{
  show_matching (self);
}

static void
on_resolution_list_row_selected_cb (GtkListBox      *box,
                                    GtkListBoxRow   *row,
                                    PsConflictsPage *self)
{
  show_resolution (self, row != NULL ? ps_resolution_row_get_resolution (PS_RESOLUTION_ROW (row))
                                     : NULL);
}

static void
on_message_bar_response_cb (GtkInfoBar      *info_bar,
                            int              response_id,
                            PsConflictsPage *self)
{
  gtk_info_bar_set_revealed (info_bar, FALSE);
}


/*
 * GObject overrides
 */

static void
ps_conflicts_page_constructed (GObject *object)
{
  PsConflictsPage *self = (PsConflictsPage *)object;

  G_OBJECT_CLASS (ps_conflicts_page_parent_class)->constructed (object);

  g_assert (PS_IS_CONTEXT (self->context));

  gtk_list_box_bind_model (self->resolution_list, G_LIST_MODEL (self->resolutions),
                           create_row_cb, self, NULL);

  g_signal_connect_object (ps_context_get_journal (self->context), "entry-added",
                           G_CALLBACK (on_journal_entry_added_cb), self, 0);
  g_signal_connect_object (ps_context_get_server_store (self->context), "items-changed",
                           G_CALLBACK (on_server_store_items_changed_cb), self, 0);

  fill_server_combo (self);
  ps_conflicts_page_refresh (self);
}

static void
ps_conflicts_page_dispose (GObject *object)
{
  PsConflictsPage *self = (PsConflictsPage *)object;

  g_cancellable_cancel (self->read_cancellable);
  g_clear_object (&self->read_cancellable);
  g_cancellable_cancel (self->edit_cancellable);
  g_clear_object (&self->edit_cancellable);

  G_OBJECT_CLASS (ps_conflicts_page_parent_class)->dispose (object);
}

/* The bound list box's rows are made with the context and the store. */
static void
ps_conflicts_page_finalize (GObject *object)
{
  PsConflictsPage *self = (PsConflictsPage *)object;

  g_clear_object (&self->resolutions);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->texts, ps_json_texts_unref);
  g_clear_object (&self->actions);
  g_clear_object (&self->context);

  G_OBJECT_CLASS (ps_conflicts_page_parent_class)->finalize (object);
}

static void
ps_conflicts_page_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  PsConflictsPage *self = PS_CONFLICTS_PAGE (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_conflicts_page_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  PsConflictsPage *self = PS_CONFLICTS_PAGE (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_assert (self->context == NULL);
      self->context = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_conflicts_page_class_init (PsConflictsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = ps_conflicts_page_constructed;
  object_class->dispose = ps_conflicts_page_dispose;
  object_class->finalize = ps_conflicts_page_finalize;
  object_class->get_property = ps_conflicts_page_get_property;
  object_class->set_property = ps_conflicts_page_set_property;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL,
                         PS_TYPE_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-conflicts-page.ui");

  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, server_combo);
  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, type_combo);
  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, message_bar);
  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, resolution_list);
  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, record_label);
  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, record_details_label);
  gtk_widget_class_bind_template_child (widget_class, PsConflictsPage, fields_box);

  gtk_widget_class_bind_template_callback (widget_class, on_filter_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_entry_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_resolution_list_row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_message_bar_response_cb);
}

static const GActionEntry page_actions[] = {
  { "use-value", on_use_value_activated_cb, "(sssss)" },
};

static void
ps_conflicts_page_init (PsConflictsPage *self)
{
  self->resolutions = g_list_store_new (PS_TYPE_RESOLUTION);
  self->edit_cancellable = g_cancellable_new ();

  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions),
                                   page_actions, G_N_ELEMENTS (page_actions),
                                   self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "conflicts", G_ACTION_GROUP (self->actions));

  gtk_widget_init_template (GTK_WIDGET (self));
}


/*
 * Public API
 */

PsConflictsPage *
ps_conflicts_page_new (PsContext *context)
{
  g_return_val_if_fail (PS_IS_CONTEXT (context), NULL);

  return g_object_new (PS_TYPE_CONFLICTS_PAGE,
                       "context", context,
                       NULL);
}

/**
 * ps_conflicts_page_get_resolutions:
 * @self: a #PsConflictsPage
 *
 * Returns: (transfer none): the resolutions shown, newest first, as
 *   #PsResolution items
 */
GListModel *
ps_conflicts_page_get_resolutions (PsConflictsPage *self)
{
  g_return_val_if_fail (PS_IS_CONFLICTS_PAGE (self), NULL);

  return G_LIST_MODEL (self->resolutions);
}

/**
 * ps_conflicts_page_refresh:
 * @self: a #PsConflictsPage
 *
 * Reads the resolutions from the journal again, with the current filters.
 */
void
ps_conflicts_page_refresh (PsConflictsPage *self)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(ReadData) data = NULL;
  const char *server;

  g_return_if_fail (PS_IS_CONFLICTS_PAGE (self));

  g_cancellable_cancel (self->read_cancellable);
  g_clear_object (&self->read_cancellable);
  self->read_cancellable = g_cancellable_new ();

  server = gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->server_combo));
  data = g_new0 (ReadData, 1);
  data->server = server != NULL && *server != '\0' ? g_strdup (server) : NULL;

  /* The worker only reads the file; the list is changed here. */
  task = g_task_new (ps_context_get_journal (self->context), self->read_cancellable,
                     on_journal_read_cb, g_object_ref (self));
  g_task_set_source_tag (task, ps_conflicts_page_refresh);
  g_task_set_task_data (task, g_steal_pointer (&data), (GDestroyNotify) read_data_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, read_journal_thread);
}

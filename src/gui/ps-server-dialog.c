/* ps-server-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-server-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-couch-error.h"
#include "ps-diagnostics-dialog.h"
#include "ps-discovery.h"
#include "ps-secrets.h"
#include "ps-server-dialog.h"
#include "ps-url.h"

/* Configures a new server, or edits one ("Edit…" in a row's menu). The
 * settings are checked by the same core functions the command line uses,
 * on every change; Save stores the password in the keyring first, so that
 * without a keyring nothing is half saved.
 *
 * A new address is first asked whether it is CouchDB or the Primero
 * application in front of it, as the command line does. When the
 * application names a CouchDB address that is not encrypted or on another
 * host, the dialog says so and saves only once the user agreed.
 *
 * Keeping a server in sync on the server moves its password into this
 * instance's `_replicator` database: the dialog asks before saving that.
 */
struct _PsServerDialog
{
  GtkDialog        parent_instance;

  PsContext       *context;
  PsServer        *server;        /* the server being edited, or NULL */
  PsServer        *new_server;    /* the server being added, while saving */
  GCancellable    *cancellable;
  gboolean         saving;
  char            *discovered_url;       /* the CouchDB address to ask about */
  char            *accepted_url;         /* the address found or agreed to */
  char           **discovered_databases;
  gboolean         on_server_agreed;     /* the user agreed to store the password there */

  /* Template widgets */
  GtkInfoBar      *error_bar;
  GtkScrolledWindow *content_scroller;
  GtkContainer    *content_grid;
  GtkLabel        *error_label;
  GtkInfoBar      *confirm_bar;
  GtkLabel        *confirm_label;
  GtkEntry        *description_entry;
  GtkLabel        *description_message;
  GtkEntry        *url_entry;
  GtkLabel        *url_message;
  GtkEntry        *username_entry;
  GtkLabel        *username_message;
  GtkEntry        *password_entry;
  GtkSwitch       *continuous_switch;
  GtkExpander     *advanced_expander;
  GtkComboBoxText *direction_combo;
  GtkEntry        *prefix_entry;
  GtkEntry        *suffix_entry;
  GtkLabel        *databases_message;
  GtkEntry        *fingerprint_entry;
  GtkLabel        *fingerprint_message;
  GtkSpinButton   *bandwidth_spin;
  GtkSpinButton   *attachment_spin;
  GtkCheckButton  *allow_metered_check;
  GtkCheckButton  *defer_attachments_check;
  GtkCheckButton  *on_server_check;
  GtkLabel        *on_server_message;
  GtkWidget       *save_button;
  GtkWidget       *test_button;
};

G_DEFINE_FINAL_TYPE (PsServerDialog, ps_server_dialog, GTK_TYPE_DIALOG)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_SERVER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SAVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef enum
{
  MESSAGE_HINT,
  MESSAGE_WARNING,
  MESSAGE_ERROR,
} MessageKind;


/*
 * Auxiliary methods
 */

static void
set_message (GtkLabel    *label,
             const char  *text,
             MessageKind  kind)
{
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (label));

  gtk_style_context_remove_class (style, "error");
  gtk_style_context_remove_class (style, "warning");
  gtk_style_context_remove_class (style, "dim-label");

  switch (kind)
    {
    case MESSAGE_ERROR:
      gtk_style_context_add_class (style, "error");
      break;
    case MESSAGE_WARNING:
      gtk_style_context_add_class (style, "warning");
      break;
    case MESSAGE_HINT:
    default:
      gtk_style_context_add_class (style, "dim-label");
      break;
    }

  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL && *text != '\0');
}

static void
show_error (PsServerDialog *self,
            const char     *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_info_bar_set_revealed (self->error_bar, TRUE);
}

static char *
dup_trimmed_text (GtkEntry *entry)
{
  return g_strstrip (g_strdup (gtk_entry_get_text (entry)));
}

static PsSyncDirection
get_direction (PsServerDialog *self)
{
  PsSyncDirection direction = PS_SYNC_DIRECTION_BOTH;
  const char *id = gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->direction_combo));

  if (id != NULL)
    ps_sync_direction_from_string (id, &direction);

  return direction;
}

static gboolean
get_on_server (PsServerDialog *self)
{
  return gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->on_server_check));
}

/* Copies the fields into @server; the URL and fingerprint must be valid. */
static void
apply_fields (PsServerDialog *self,
              PsServer       *server)
{
  g_autofree char *description = dup_trimmed_text (self->description_entry);
  g_autofree char *url_text = dup_trimmed_text (self->url_entry);
  g_autofree char *username = dup_trimmed_text (self->username_entry);
  g_autofree char *prefix = dup_trimmed_text (self->prefix_entry);
  g_autofree char *suffix = dup_trimmed_text (self->suffix_entry);
  g_autofree char *fingerprint_text = dup_trimmed_text (self->fingerprint_entry);
  g_autofree char *url = NULL;
  g_autofree char *fingerprint = NULL;

  if (!ps_server_normalize_url (url_text, &url, NULL, NULL))
    url = g_steal_pointer (&url_text);
  if (*fingerprint_text != '\0')
    fingerprint = ps_server_normalize_fingerprint (fingerprint_text, NULL);

  ps_server_set_description (server, description);
  ps_server_set_url (server, url);
  ps_server_set_username (server, username);
  ps_server_set_continuous (server, gtk_switch_get_active (self->continuous_switch));
  ps_server_set_direction (server, get_direction (self));
  ps_server_set_database_prefix (server, prefix);
  ps_server_set_database_suffix (server, suffix);
  ps_server_set_pinned_fingerprint (server, fingerprint);
  ps_server_set_bandwidth_limit (server, gtk_spin_button_get_value_as_int (self->bandwidth_spin));
  ps_server_set_max_attachment_size (server,
                                     gtk_spin_button_get_value_as_int (self->attachment_spin));
  ps_server_set_allow_metered (server, gtk_toggle_button_get_active (
                                         GTK_TOGGLE_BUTTON (self->allow_metered_check)));
  ps_server_set_defer_attachments (server, gtk_toggle_button_get_active (
                                             GTK_TOGGLE_BUTTON (self->defer_attachments_check)));
  ps_server_set_on_server (server, get_on_server (self));
}

static gboolean
validate (PsServerDialog *self)
{
  PsServerStore *store = ps_context_get_server_store (self->context);
  g_autofree char *url_text = dup_trimmed_text (self->url_entry);
  g_autofree char *username = dup_trimmed_text (self->username_entry);
  g_autofree char *fingerprint_text = dup_trimmed_text (self->fingerprint_entry);
  g_autoptr(PsServer) scratch = NULL;
  g_autoptr(GError) error = NULL;
  gboolean insecure = FALSE;
  gboolean valid = TRUE;

  /* Entries change while the template is being built. */
  if (self->context == NULL || self->save_button == NULL || self->test_button == NULL)
    return FALSE;

  /* Description */
  if (!ps_server_store_check_description (store, gtk_entry_get_text (self->description_entry),
                                          self->server, &error))
    {
      set_message (self->description_message, error->message, MESSAGE_ERROR);
      g_clear_error (&error);
      valid = FALSE;
    }
  else
    {
      set_message (self->description_message, NULL, MESSAGE_ERROR);
    }

  /* URL */
  if (*url_text == '\0')
    {
      set_message (self->url_message, _("Enter the address of the server’s CouchDB"),
                   MESSAGE_HINT);
      valid = FALSE;
    }
  else if (!ps_server_normalize_url (url_text, NULL, &insecure, &error))
    {
      set_message (self->url_message, error->message, MESSAGE_ERROR);
      g_clear_error (&error);
      valid = FALSE;
    }
  else if (insecure)
    {
      set_message (self->url_message,
                   _("Traffic to this server is not encrypted; use https unless the "
                     "network is trusted"),
                   MESSAGE_WARNING);
    }
  else
    {
      set_message (self->url_message, NULL, MESSAGE_HINT);
    }

  /* User name */
  if (*username == '\0')
    {
      set_message (self->username_message,
                   _("Enter the user name of a database administrator on the server"),
                   MESSAGE_HINT);
      valid = FALSE;
    }
  else
    {
      set_message (self->username_message, NULL, MESSAGE_HINT);
    }

  /* Fingerprint */
  if (*fingerprint_text != '\0')
    {
      g_autofree char *fingerprint = ps_server_normalize_fingerprint (fingerprint_text, &error);

      if (fingerprint == NULL)
        {
          set_message (self->fingerprint_message, error->message, MESSAGE_ERROR);
          g_clear_error (&error);
          gtk_expander_set_expanded (self->advanced_expander, TRUE);
          valid = FALSE;
        }
      else
        {
          set_message (self->fingerprint_message, NULL, MESSAGE_HINT);
        }
    }
  else
    {
      set_message (self->fingerprint_message,
                   _("The SHA-256 fingerprint you checked with the server’s administrator"),
                   MESSAGE_HINT);
    }

  /* CouchDB's replicator checks the certificate itself, with its own
   * authorities: a pinned one means nothing to it.
   */
  if (get_on_server (self) && *fingerprint_text != '\0')
    set_message (self->on_server_message,
                 _("This instance’s CouchDB does not know the pinned certificate: it syncs "
                   "with the server only if it trusts the server’s certificate itself."),
                 MESSAGE_WARNING);
  else
    set_message (self->on_server_message,
                 _("This instance’s CouchDB syncs with the server by itself, also while "
                   "this computer is off."),
                 MESSAGE_HINT);

  /* Databases: the same check as when the server is added to the store. */
  scratch = ps_server_new (NULL, NULL);
  apply_fields (self, scratch);
  {
    g_auto(GStrv) names = ps_server_dup_database_names (scratch);
    g_autofree char *joined = g_strjoinv (", ", names);
    g_autofree char *hint = NULL;

    /* Translators: %s is a list of database names */
    hint = g_strdup_printf (_("Syncs %s"), joined);
    set_message (self->databases_message, hint, MESSAGE_HINT);
  }

  if (valid && !ps_server_validate (scratch, &error))
    {
      set_message (self->databases_message, error->message, MESSAGE_ERROR);
      gtk_expander_set_expanded (self->advanced_expander, TRUE);
      valid = FALSE;
    }

  gtk_widget_set_sensitive (self->save_button, valid && !self->saving);
  gtk_widget_set_sensitive (self->test_button, valid && !self->saving);

  return valid;
}

static void
set_saving (PsServerDialog *self,
            gboolean        saving)
{
  GtkWidget *content = gtk_dialog_get_content_area (GTK_DIALOG (self));

  self->saving = saving;
  gtk_widget_set_sensitive (content, !saving);
  validate (self);
}

static void
fill_fields (PsServerDialog *self)
{
  PsServer *local = ps_server_store_get_local (ps_context_get_server_store (self->context));
  PsServer *source = self->server != NULL ? self->server : local;
  const char *fingerprint;

  if (self->server != NULL)
    {
      gtk_window_set_title (GTK_WINDOW (self), _("Edit Server"));
      gtk_entry_set_text (self->description_entry, ps_server_get_description (self->server));
      gtk_entry_set_text (self->url_entry, ps_server_get_url (self->server));
      if (ps_server_get_username (self->server) != NULL)
        gtk_entry_set_text (self->username_entry, ps_server_get_username (self->server));
      gtk_entry_set_placeholder_text (self->password_entry,
                                      _("Leave empty to keep the current password"));
      gtk_switch_set_active (self->continuous_switch,
                             ps_server_get_continuous (self->server));
      gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->direction_combo),
                                   ps_sync_direction_to_string (
                                     ps_server_get_direction (self->server)));
      gtk_spin_button_set_value (self->bandwidth_spin,
                                 ps_server_get_bandwidth_limit (self->server));
      gtk_spin_button_set_value (self->attachment_spin,
                                 ps_server_get_max_attachment_size (self->server));
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->allow_metered_check),
                                    ps_server_get_allow_metered (self->server));
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->defer_attachments_check),
                                    ps_server_get_defer_attachments (self->server));
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->on_server_check),
                                    ps_server_get_on_server (self->server));
      fingerprint = ps_server_get_pinned_fingerprint (self->server);
      if (fingerprint != NULL)
        gtk_entry_set_text (self->fingerprint_entry, fingerprint);
    }
  else
    {
      gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->direction_combo), "both");
    }

  /* New servers name their databases like this instance does. */
  gtk_entry_set_text (self->prefix_entry, ps_server_get_database_prefix (source));
  gtk_entry_set_text (self->suffix_entry, ps_server_get_database_suffix (source));
}

static char *
dup_normalized_url (PsServerDialog *self)
{
  g_autofree char *url_text = dup_trimmed_text (self->url_entry);
  char *url = NULL;

  if (!ps_server_normalize_url (url_text, &url, NULL, NULL))
    return NULL;

  return url;
}

/* The databases a Primero application named go with the address it gave. */
static void
apply_discovered_databases (PsServerDialog *self,
                            PsServer       *server)
{
  g_autofree char *url = dup_normalized_url (self);

  if (self->discovered_databases != NULL && g_strcmp0 (url, self->accepted_url) == 0)
    ps_server_set_databases (server, (const char * const *) self->discovered_databases);
}

/* Applies the settings once the password is safe in the keyring. */
static void
finish_save (PsServerDialog *self)
{
  PsServerStore *store = ps_context_get_server_store (self->context);
  PsSyncManager *manager = ps_context_get_sync_manager (self->context);
  g_autoptr(GError) error = NULL;
  PsServer *server;
  gboolean was_continuous = FALSE;
  gboolean was_on_server = FALSE;
  gboolean syncs_desktop;

  if (self->server != NULL)
    {
      server = self->server;
      was_continuous = ps_server_get_continuous (server);
      was_on_server = ps_server_get_on_server (server);
      apply_fields (self, server);
      apply_discovered_databases (self, server);
    }
  else
    {
      server = self->new_server;
      apply_fields (self, server);
      apply_discovered_databases (self, server);
      if (!ps_server_store_add (store, server, &error))
        {
          /* No password may stay behind for a server that does not exist. */
          ps_secrets_clear_async (ps_server_get_id (server), NULL, NULL, NULL);
          g_clear_object (&self->new_server);
          show_error (self, error->message);
          set_saving (self, FALSE);
          return;
        }
    }

  if (!ps_server_store_save (store, &error))
    {
      show_error (self, error->message);
      set_saving (self, FALSE);
      return;
    }

  /* Only a continuous sync from this desktop starts or stops here; the
   * documents of a server kept on the server are written by whoever
   * handles "saved".
   */
  syncs_desktop = ps_server_get_continuous (server) && !ps_server_get_on_server (server);
  if (syncs_desktop != (was_continuous && !was_on_server) || self->server == NULL)
    {
      if (syncs_desktop)
        ps_sync_manager_sync (manager, ps_server_get_id (server));
      else if (self->server != NULL)
        ps_sync_manager_stop (manager, ps_server_get_id (server));
    }

  self->saving = FALSE;
  g_signal_emit (self, signals[SAVED], 0, server, was_on_server);
  gtk_widget_destroy (GTK_WIDGET (self));
}


/*
 * Callbacks
 */

static void
on_secrets_store_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(PsServerDialog) self = PS_SERVER_DIALOG (user_data);
  g_autoptr(GError) error = NULL;

  if (!ps_secrets_store_finish (result, &error))
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      g_clear_object (&self->new_server);
      message = g_strdup_printf (_("The password could not be stored in the keyring, so "
                                   "nothing was saved: %s"), error->message);
      show_error (self, message);
      set_saving (self, FALSE);
      return;
    }

  finish_save (self);
}

/* A check of the diagnostics found this field wrong: the dialog is the
 * one that holds it.
 */
static void
on_diagnostics_edit_requested_cb (PsDiagnosticsDialog *dialog,
                                  const char          *field,
                                  PsServerDialog      *self)
{
  ps_server_dialog_focus_field (self, field);
}

/* The fields as they are, with the password typed, else the one kept
 * for the server in @stored.
 */
static PsServerAccess *
new_edited_access (PsServerDialog *self,
                   PsServerAccess *stored)
{
  g_autoptr(PsServer) scratch = ps_server_new (NULL, NULL);
  const char *typed = gtk_entry_get_text (self->password_entry);

  apply_fields (self, scratch);
  if (*typed == '\0' && stored != NULL)
    return ps_server_access_new_for_settings (stored, scratch);

  return ps_server_access_new (scratch, ps_context_get_session (self->context),
                               *typed != '\0' ? typed : NULL);
}

static void
test_connection (PsServerDialog *self,
                 PsServerAccess *stored)
{
  g_autoptr(PsServerAccess) access = new_edited_access (self, stored);
  g_autoptr(PsDiagnostics) diagnostics = NULL;
  g_autofree char *description = dup_trimmed_text (self->description_entry);
  PsDiagnosticsDialog *dialog;

  diagnostics = ps_diagnostics_new_for_access (access);
  dialog = ps_diagnostics_dialog_new (GTK_WINDOW (self), diagnostics, description);
  g_signal_connect_object (dialog, "edit-requested",
                           G_CALLBACK (on_diagnostics_edit_requested_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_test_access_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(PsServerDialog) self = PS_SERVER_DIALOG (user_data);
  g_autoptr(PsServerAccess) access = NULL;
  g_autoptr(GError) error = NULL;

  access = ps_server_access_new_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    show_error (self, error->message);

  test_connection (self, access);
}

static void
on_test_button_clicked_cb (GtkButton      *button,
                           PsServerDialog *self)
{
  const char *password = gtk_entry_get_text (self->password_entry);

  if (!validate (self))
    return;

  /* Editing without retyping the password tests the stored one. */
  if (*password == '\0' && self->server != NULL)
    {
      ps_server_access_new_async (self->server, ps_context_get_session (self->context),
                                  self->cancellable, on_test_access_cb, g_object_ref (self));
      return;
    }

  test_connection (self, NULL);
}

static void
on_entry_changed_cb (GtkEditable    *editable,
                     PsServerDialog *self)
{
  /* The question was about the address as it was. */
  if (self->confirm_bar != NULL && editable == GTK_EDITABLE (self->url_entry))
    gtk_info_bar_set_revealed (self->confirm_bar, FALSE);

  validate (self);
}

static void
on_combo_changed_cb (GtkComboBox    *combo,
                     PsServerDialog *self)
{
  validate (self);
}

static void
on_on_server_check_toggled_cb (GtkToggleButton *button,
                               PsServerDialog  *self)
{
  /* Ticked again, it is asked again. */
  self->on_server_agreed = FALSE;
  validate (self);
}

static void save (PsServerDialog *self);

static void
store_password_and_finish (PsServerDialog *self)
{
  g_auto(PsSecret) password = NULL;
  g_autofree char *description = NULL;
  const char *server_id;

  if (self->server == NULL)
    {
      g_clear_object (&self->new_server);
      self->new_server = ps_server_new (NULL, NULL);
    }

  server_id = ps_server_get_id (self->server != NULL ? self->server : self->new_server);
  password = ps_secrets_dup (gtk_entry_get_text (self->password_entry));
  description = dup_trimmed_text (self->description_entry);

  if (*password == '\0')
    {
      finish_save (self);
      return;
    }

  ps_secrets_store_async (server_id, description, password, self->cancellable,
                          on_secrets_store_cb, g_object_ref (self));
}

static void
ask_about_address (PsServerDialog    *self,
                   PsDiscoveryChange  changes)
{
  g_autofree char *url = dup_normalized_url (self);
  g_autofree char *shown = ps_url_redact (self->discovered_url);
  g_autoptr(GString) text = g_string_new (NULL);

  if ((changes & PS_DISCOVERY_CHANGE_UNENCRYPTED) != 0)
    {
      g_string_append_printf (text,
                              _("The Primero application at %s keeps its records at %s, "
                                "which is not encrypted: records and passwords would cross "
                                "the network in the clear."),
                              url, shown);
    }
  if ((changes & PS_DISCOVERY_CHANGE_OTHER_HOST) != 0)
    {
      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append_printf (text,
                              _("The Primero application at %s keeps its records on another "
                                "host, at %s. Check with its administrator that this host is "
                                "theirs."),
                              url, shown);
    }
  g_string_append_c (text, '\n');
  g_string_append (text, _("Use this address for the server?"));

  gtk_label_set_text (self->confirm_label, text->str);
  gtk_info_bar_set_revealed (self->confirm_bar, TRUE);
}

static void
on_discovered_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(PsServerDialog) self = PS_SERVER_DIALOG (user_data);
  g_autoptr(GError) error = NULL;
  g_autofree char *couch_url = NULL;
  g_autofree char *normalized = NULL;
  g_autofree char *url = NULL;
  g_auto(GStrv) databases = NULL;
  PsDiscoveryChange changes = PS_DISCOVERY_CHANGE_NONE;

  if (!ps_discovery_run_finish (result, &couch_url, &databases, &changes, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      /* A server that cannot be reached now is kept as given. */
      if (ps_couch_error_is_transient (error))
        {
          store_password_and_finish (self);
          return;
        }

      show_error (self, error->message);
      set_saving (self, FALSE);
      return;
    }

  url = dup_normalized_url (self);
  g_clear_pointer (&self->discovered_databases, g_strfreev);
  self->discovered_databases = g_steal_pointer (&databases);

  if (!ps_server_normalize_url (couch_url, &normalized, NULL, NULL))
    {
      show_error (self, _("The Primero application named a CouchDB address that is not valid"));
      set_saving (self, FALSE);
      return;
    }

  if (g_strcmp0 (normalized, url) != 0 && changes != PS_DISCOVERY_CHANGE_NONE)
    {
      g_free (self->discovered_url);
      self->discovered_url = g_steal_pointer (&normalized);
      set_saving (self, FALSE);
      ask_about_address (self, changes);
      return;
    }

  /* The address found is the one to save. */
  g_free (self->accepted_url);
  self->accepted_url = g_strdup (normalized);
  if (g_strcmp0 (normalized, url) != 0)
    gtk_entry_set_text (self->url_entry, normalized);
  store_password_and_finish (self);
}

static void
on_confirm_bar_response_cb (GtkInfoBar     *bar,
                            int             response_id,
                            PsServerDialog *self)
{
  g_autofree char *url = NULL;

  gtk_info_bar_set_revealed (self->confirm_bar, FALSE);
  if (response_id != GTK_RESPONSE_ACCEPT || self->discovered_url == NULL)
    return;

  url = g_steal_pointer (&self->discovered_url);
  g_free (self->accepted_url);
  self->accepted_url = g_strdup (url);
  gtk_entry_set_text (self->url_entry, url);
  save (self);
}

static void
discover (PsServerDialog *self,
          PsServerAccess *stored)
{
  g_autoptr(PsServerAccess) access = new_edited_access (self, stored);

  ps_server_access_discover_async (access, self->cancellable, on_discovered_cb,
                                   g_object_ref (self));
}

static void
on_discovery_access_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(PsServerDialog) self = PS_SERVER_DIALOG (user_data);
  g_autoptr(PsServerAccess) access = NULL;
  g_autoptr(GError) error = NULL;

  access = ps_server_access_new_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* Without the keyring, a CouchDB is still found; an application may
   * refuse, and says so.
   */
  discover (self, access);
}

static void
on_consent_dialog_response_cb (GtkDialog      *dialog,
                               int             response_id,
                               PsServerDialog *self)
{
  gtk_widget_destroy (GTK_WIDGET (dialog));

  /* Cancelled: nothing is saved, and the user can untick the box. */
  if (response_id != GTK_RESPONSE_ACCEPT)
    return;

  self->on_server_agreed = TRUE;
  save (self);
}

static gboolean
needs_consent (PsServerDialog *self)
{
  if (!get_on_server (self) || self->on_server_agreed)
    return FALSE;

  /* A server already kept on the server was agreed to when it was set so. */
  return self->server == NULL || !ps_server_get_on_server (self->server);
}

static void
ask_consent (PsServerDialog *self)
{
  g_autofree char *description = dup_trimmed_text (self->description_entry);
  GtkWidget *dialog;
  GtkWidget *button;

  dialog = gtk_message_dialog_new (GTK_WINDOW (self),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                   /* Translators: %s is the description of a server */
                                   _("Keep syncing with “%s” on the server?"), description);
  /* Translators: %s is the description of a server */
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            _("This instance’s CouchDB will then sync with "
                                              "the server by itself. For that, the password "
                                              "of “%s” is stored in the _replicator database "
                                              "of this instance’s CouchDB, where the "
                                              "administrators of this instance’s CouchDB can "
                                              "read it."),
                                            description);
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL);
  button = gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Keep Syncing on the Server"),
                                  GTK_RESPONSE_ACCEPT);
  gtk_style_context_add_class (gtk_widget_get_style_context (button), "suggested-action");
  /* The password leaves the keyring only on a deliberate choice. */
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);

  g_signal_connect_object (dialog, "response", G_CALLBACK (on_consent_dialog_response_cb),
                           self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
save (PsServerDialog *self)
{
  g_autofree char *url = NULL;
  const char *password;

  if (self->saving || !validate (self))
    return;

  if (needs_consent (self))
    {
      ask_consent (self);
      return;
    }

  gtk_info_bar_set_revealed (self->error_bar, FALSE);
  gtk_info_bar_set_revealed (self->confirm_bar, FALSE);
  set_saving (self, TRUE);

  /* An address already known, found or agreed to is not asked again. */
  url = dup_normalized_url (self);
  if (g_strcmp0 (url, self->accepted_url) == 0 ||
      (self->server != NULL && g_strcmp0 (url, ps_server_get_url (self->server)) == 0))
    {
      store_password_and_finish (self);
      return;
    }

  /* Editing without retyping the password asks with the stored one. */
  password = gtk_entry_get_text (self->password_entry);
  if (*password == '\0' && self->server != NULL)
    {
      ps_server_access_new_async (self->server, ps_context_get_session (self->context),
                                  self->cancellable, on_discovery_access_cb,
                                  g_object_ref (self));
      return;
    }

  discover (self, NULL);
}


/*
 * GtkDialog overrides
 */

static void
ps_server_dialog_response (GtkDialog *dialog,
                           int        response_id)
{
  PsServerDialog *self = PS_SERVER_DIALOG (dialog);

  switch (response_id)
    {
    case GTK_RESPONSE_OK:
      if (!self->saving && gtk_widget_get_sensitive (self->save_button))
        save (self);
      break;

    case GTK_RESPONSE_CANCEL:
    case GTK_RESPONSE_DELETE_EVENT:
      gtk_widget_destroy (GTK_WIDGET (self));
      break;

    default:
      break;
    }
}


/*
 * GObject overrides
 */

static void
ps_server_dialog_constructed (GObject *object)
{
  PsServerDialog *self = (PsServerDialog *)object;

  G_OBJECT_CLASS (ps_server_dialog_parent_class)->constructed (object);

  g_assert (PS_IS_CONTEXT (self->context));

  fill_fields (self);
  validate (self);

  /* Nothing is wrong before the user typed anything. */
  if (self->server == NULL)
    {
      set_message (self->description_message, NULL, MESSAGE_ERROR);
      set_message (self->username_message, NULL, MESSAGE_HINT);
    }
}

static void
ps_server_dialog_dispose (GObject *object)
{
  PsServerDialog *self = (PsServerDialog *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->new_server);
  g_clear_object (&self->server);
  g_clear_object (&self->context);
  g_clear_pointer (&self->discovered_url, g_free);
  g_clear_pointer (&self->accepted_url, g_free);
  g_clear_pointer (&self->discovered_databases, g_strfreev);

  G_OBJECT_CLASS (ps_server_dialog_parent_class)->dispose (object);
}

static void
ps_server_dialog_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  PsServerDialog *self = PS_SERVER_DIALOG (object);

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
ps_server_dialog_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  PsServerDialog *self = PS_SERVER_DIALOG (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_object (value);
      break;

    case PROP_SERVER:
      self->server = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_server_dialog_class_init (PsServerDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkDialogClass *dialog_class = GTK_DIALOG_CLASS (klass);

  object_class->constructed = ps_server_dialog_constructed;
  object_class->dispose = ps_server_dialog_dispose;
  object_class->get_property = ps_server_dialog_get_property;
  object_class->set_property = ps_server_dialog_set_property;

  dialog_class->response = ps_server_dialog_response;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL,
                         PS_TYPE_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * PsServerDialog:server:
   *
   * The server to edit, or %NULL to configure a new one.
   */
  properties[PROP_SERVER] =
    g_param_spec_object ("server", NULL, NULL,
                         PS_TYPE_SERVER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PsServerDialog::saved:
   * @self: a #PsServerDialog
   * @server: the server saved
   * @was_on_server: whether it was kept in sync on the server before
   *
   * The settings are saved and the dialog is about to close: the owner
   * writes or removes the server's replication documents.
   */
  signals[SAVED] =
    g_signal_new ("saved",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, PS_TYPE_SERVER, G_TYPE_BOOLEAN);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-server-dialog.ui");

  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, error_bar);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, content_scroller);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, content_grid);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, confirm_bar);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, confirm_label);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, description_entry);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, description_message);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, url_entry);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, url_message);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, username_entry);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, username_message);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, password_entry);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, continuous_switch);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, bandwidth_spin);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, attachment_spin);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, allow_metered_check);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, defer_attachments_check);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, on_server_check);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, on_server_message);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, advanced_expander);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, direction_combo);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, prefix_entry);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, suffix_entry);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, databases_message);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, fingerprint_entry);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, fingerprint_message);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, save_button);
  gtk_widget_class_bind_template_child (widget_class, PsServerDialog, test_button);

  gtk_widget_class_bind_template_callback (widget_class, on_entry_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_combo_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_on_server_check_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_test_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_confirm_bar_response_cb);
}

static void
ps_server_dialog_init (PsServerDialog *self)
{
  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_style_context_add_class (gtk_widget_get_style_context (self->save_button),
                               "suggested-action");

  /* Moving the focus with the keyboard scrolls the field into view. */
  gtk_container_set_focus_vadjustment (
    self->content_grid, gtk_scrolled_window_get_vadjustment (self->content_scroller));
}


/*
 * Public API
 */

/**
 * ps_server_dialog_new:
 * @parent: the window the dialog belongs to
 * @context: the application's context
 * @server: (nullable): the server to edit, or %NULL to configure a new one
 *
 * Returns: (transfer none): a new dialog, destroyed when it is closed
 */
PsServerDialog *
ps_server_dialog_new (GtkWindow *parent,
                      PsContext *context,
                      PsServer  *server)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (PS_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (server == NULL || PS_IS_SERVER (server), NULL);

  return g_object_new (PS_TYPE_SERVER_DIALOG,
                       "use-header-bar", TRUE,
                       "transient-for", parent,
                       "context", context,
                       "server", server,
                       NULL);
}

/**
 * ps_server_dialog_focus_field:
 * @self: a #PsServerDialog
 * @field: `url`, `username`, `password`, `fingerprint` or `prefix`
 *
 * Puts the keyboard focus on a setting, opening the advanced settings
 * when it is one of them, so that the user can change it at once.
 */
void
ps_server_dialog_focus_field (PsServerDialog *self,
                              const char     *field)
{
  GtkEntry *entry = self->url_entry;

  g_return_if_fail (PS_IS_SERVER_DIALOG (self));
  g_return_if_fail (field != NULL);

  if (g_str_equal (field, "username"))
    entry = self->username_entry;
  else if (g_str_equal (field, "password"))
    entry = self->password_entry;
  else if (g_str_equal (field, "fingerprint"))
    entry = self->fingerprint_entry;
  else if (g_str_equal (field, "prefix"))
    entry = self->prefix_entry;

  if (entry == self->fingerprint_entry || entry == self->prefix_entry)
    gtk_expander_set_expanded (self->advanced_expander, TRUE);

  gtk_window_present (GTK_WINDOW (self));
  gtk_widget_grab_focus (GTK_WIDGET (entry));
}

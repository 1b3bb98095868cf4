/* ps-preferences-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-preferences-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-autostart.h"
#include "ps-preferences-dialog.h"
#include "ps-secrets.h"

/* Where this instance's CouchDB is and how the application runs. As with
 * the server dialog, the password goes to the keyring before anything else
 * is saved.
 */
struct _PsPreferencesDialog
{
  GtkDialog     parent_instance;

  PsContext    *context;
  GSettings    *settings;
  GCancellable *cancellable;
  gboolean      saving;

  /* Template widgets */
  GtkInfoBar   *error_bar;
  GtkLabel     *error_label;
  GtkEntry     *url_entry;
  GtkLabel     *url_message;
  GtkEntry     *username_entry;
  GtkEntry     *password_entry;
  GtkEntry     *prefix_entry;
  GtkEntry     *suffix_entry;
  GtkLabel     *databases_message;
  GtkSwitch    *background_switch;
  GtkSpinButton *max_jobs_spin;
  GtkSwitch    *autostart_switch;
  GtkWidget    *save_button;
};

G_DEFINE_FINAL_TYPE (PsPreferencesDialog, ps_preferences_dialog, GTK_TYPE_DIALOG)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];


/*
 * Auxiliary methods
 */

static void
set_message (GtkLabel   *label,
             const char *text,
             gboolean    is_error)
{
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (label));

  if (is_error)
    {
      gtk_style_context_add_class (style, "error");
      gtk_style_context_remove_class (style, "dim-label");
    }
  else
    {
      gtk_style_context_remove_class (style, "error");
      gtk_style_context_add_class (style, "dim-label");
    }

  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL && *text != '\0');
}

static void
show_error (PsPreferencesDialog *self,
            const char          *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_info_bar_set_revealed (self->error_bar, TRUE);
}

static PsServer *
get_local (PsPreferencesDialog *self)
{
  return ps_server_store_get_local (ps_context_get_server_store (self->context));
}

static char *
dup_trimmed_text (GtkEntry *entry)
{
  return g_strstrip (g_strdup (gtk_entry_get_text (entry)));
}

static char *
dup_url (PsPreferencesDialog *self)
{
  g_autofree char *text = dup_trimmed_text (self->url_entry);
  char *normalized = NULL;

  if (*text == '\0')
    return g_strdup (PS_SERVER_DEFAULT_LOCAL_URL);
  if (!ps_server_normalize_url (text, &normalized, NULL, NULL))
    return g_steal_pointer (&text);

  return normalized;
}

static void
apply_instance_fields (PsPreferencesDialog *self,
                       PsServer            *server)
{
  g_autofree char *url = dup_url (self);
  g_autofree char *username = dup_trimmed_text (self->username_entry);
  g_autofree char *prefix = dup_trimmed_text (self->prefix_entry);
  g_autofree char *suffix = dup_trimmed_text (self->suffix_entry);

  ps_server_set_url (server, url);
  ps_server_set_username (server, *username != '\0' ? username : NULL);
  ps_server_set_database_prefix (server, prefix);
  ps_server_set_database_suffix (server, suffix);
}

static gboolean
validate (PsPreferencesDialog *self)
{
  g_autofree char *url_text = NULL;
  g_autoptr(PsServer) scratch = NULL;
  g_autoptr(GError) error = NULL;
  gboolean insecure = FALSE;
  gboolean valid = TRUE;

  if (self->context == NULL || self->save_button == NULL)
    return FALSE;

  url_text = dup_trimmed_text (self->url_entry);
  if (*url_text == '\0')
    {
      set_message (self->url_message, _("Empty for the usual address, http://127.0.0.1:5984"),
                   FALSE);
    }
  else if (!ps_server_normalize_url (url_text, NULL, &insecure, &error))
    {
      set_message (self->url_message, error->message, TRUE);
      g_clear_error (&error);
      valid = FALSE;
    }
  else if (insecure)
    {
      set_message (self->url_message,
                   _("Traffic to this instance is not encrypted; use https unless the "
                     "network is trusted"),
                   FALSE);
    }
  else
    {
      set_message (self->url_message, NULL, FALSE);
    }

  /* Database names get the same check as those of the servers. */
  scratch = ps_server_new (ps_server_get_description (get_local (self)),
                          PS_SERVER_DEFAULT_LOCAL_URL);
  apply_instance_fields (self, scratch);
  ps_server_set_url (scratch, PS_SERVER_DEFAULT_LOCAL_URL);
  if (!ps_server_validate (scratch, &error))
    {
      set_message (self->databases_message, error->message, TRUE);
      valid = FALSE;
    }
  else
    {
      g_auto(GStrv) names = ps_server_dup_database_names (scratch);
      g_autofree char *joined = g_strjoinv (", ", names);
      g_autofree char *hint = NULL;

      /* Translators: %s is a list of database names */
      hint = g_strdup_printf (_("Syncs %s"), joined);
      set_message (self->databases_message, hint, FALSE);
    }

  gtk_widget_set_sensitive (GTK_WIDGET (self->autostart_switch),
                            gtk_switch_get_active (self->background_switch));
  gtk_widget_set_sensitive (self->save_button, valid && !self->saving);

  return valid;
}

static void
set_saving (PsPreferencesDialog *self,
            gboolean             saving)
{
  self->saving = saving;
  gtk_widget_set_sensitive (gtk_dialog_get_content_area (GTK_DIALOG (self)), !saving);
  validate (self);
}

static void
fill_fields (PsPreferencesDialog *self)
{
  PsServer *local = get_local (self);

  gtk_entry_set_text (self->url_entry, ps_server_get_url (local));
  if (ps_server_get_username (local) != NULL)
    gtk_entry_set_text (self->username_entry, ps_server_get_username (local));
  gtk_entry_set_text (self->prefix_entry, ps_server_get_database_prefix (local));
  gtk_entry_set_text (self->suffix_entry, ps_server_get_database_suffix (local));
  gtk_switch_set_active (self->background_switch,
                         g_settings_get_boolean (self->settings, "run-in-background"));
  gtk_switch_set_active (self->autostart_switch, ps_autostart_get_enabled ());
  gtk_spin_button_set_value (self->max_jobs_spin,
                             g_settings_get_uint (self->settings, "max-concurrent-syncs"));
}

static void
finish_save (PsPreferencesDialog *self)
{
  PsServerStore *store = ps_context_get_server_store (self->context);
  g_autoptr(GError) error = NULL;
  gboolean background = gtk_switch_get_active (self->background_switch);
  gboolean autostart = background && gtk_switch_get_active (self->autostart_switch);

  apply_instance_fields (self, get_local (self));
  if (!ps_server_store_save (store, &error))
    {
      show_error (self, error->message);
      set_saving (self, FALSE);
      return;
    }

  g_settings_set_string (self->settings, "database-prefix",
                         ps_server_get_database_prefix (get_local (self)));
  g_settings_set_string (self->settings, "database-suffix",
                         ps_server_get_database_suffix (get_local (self)));
  g_settings_set_boolean (self->settings, "run-in-background", background);
  g_settings_set_uint (self->settings, "max-concurrent-syncs",
                       (guint) gtk_spin_button_get_value_as_int (self->max_jobs_spin));

  if (autostart != ps_autostart_get_enabled () &&
      !ps_autostart_set_enabled (autostart, &error))
    {
      show_error (self, error->message);
      set_saving (self, FALSE);
      return;
    }

  self->saving = FALSE;
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
  g_autoptr(PsPreferencesDialog) self = PS_PREFERENCES_DIALOG (user_data);
  g_autoptr(GError) error = NULL;

  if (!ps_secrets_store_finish (result, &error))
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      message = g_strdup_printf (_("The password could not be stored in the keyring, so "
                                   "nothing was saved: %s"), error->message);
      show_error (self, message);
      set_saving (self, FALSE);
      return;
    }

  finish_save (self);
}

static void
on_changed_cb (GtkEditable         *editable,
               PsPreferencesDialog *self)
{
  validate (self);
}

static void
on_switch_active_cb (GtkSwitch           *widget,
                     GParamSpec          *pspec,
                     PsPreferencesDialog *self)
{
  validate (self);
}

static void
save (PsPreferencesDialog *self)
{
  g_auto(PsSecret) password = NULL;
  PsServer *local = get_local (self);

  if (self->saving || !validate (self))
    return;

  gtk_info_bar_set_revealed (self->error_bar, FALSE);
  set_saving (self, TRUE);

  password = ps_secrets_dup (gtk_entry_get_text (self->password_entry));
  if (*password == '\0')
    {
      finish_save (self);
      return;
    }

  ps_secrets_store_async (ps_server_get_id (local), ps_server_get_description (local),
                          password, self->cancellable, on_secrets_store_cb,
                          g_object_ref (self));
}


/*
 * GtkDialog overrides
 */

static void
ps_preferences_dialog_response (GtkDialog *dialog,
                                int        response_id)
{
  PsPreferencesDialog *self = PS_PREFERENCES_DIALOG (dialog);

  switch (response_id)
    {
    case GTK_RESPONSE_OK:
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
ps_preferences_dialog_constructed (GObject *object)
{
  PsPreferencesDialog *self = (PsPreferencesDialog *)object;

  G_OBJECT_CLASS (ps_preferences_dialog_parent_class)->constructed (object);

  g_assert (PS_IS_CONTEXT (self->context));
  g_assert (G_IS_SETTINGS (self->settings));

  fill_fields (self);
  validate (self);
}

static void
ps_preferences_dialog_dispose (GObject *object)
{
  PsPreferencesDialog *self = (PsPreferencesDialog *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_object (&self->context);

  G_OBJECT_CLASS (ps_preferences_dialog_parent_class)->dispose (object);
}

static void
ps_preferences_dialog_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  PsPreferencesDialog *self = PS_PREFERENCES_DIALOG (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;

    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_preferences_dialog_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  PsPreferencesDialog *self = PS_PREFERENCES_DIALOG (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_object (value);
      break;

    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_preferences_dialog_class_init (PsPreferencesDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkDialogClass *dialog_class = GTK_DIALOG_CLASS (klass);

  object_class->constructed = ps_preferences_dialog_constructed;
  object_class->dispose = ps_preferences_dialog_dispose;
  object_class->get_property = ps_preferences_dialog_get_property;
  object_class->set_property = ps_preferences_dialog_set_property;

  dialog_class->response = ps_preferences_dialog_response;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL,
                         PS_TYPE_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-preferences-dialog.ui");

  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, error_bar);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, url_entry);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, url_message);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, username_entry);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, password_entry);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, prefix_entry);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, suffix_entry);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, databases_message);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, background_switch);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, max_jobs_spin);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, autostart_switch);
  gtk_widget_class_bind_template_child (widget_class, PsPreferencesDialog, save_button);

  gtk_widget_class_bind_template_callback (widget_class, on_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_switch_active_cb);
}

static void
ps_preferences_dialog_init (PsPreferencesDialog *self)
{
  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_style_context_add_class (gtk_widget_get_style_context (self->save_button),
                               "suggested-action");
}


/*
 * Public API
 */

/**
 * ps_preferences_dialog_new:
 * @parent: the window the dialog belongs to
 * @context: the application's context
 * @settings: the application's settings
 *
 * Returns: (transfer none): a new dialog, destroyed when it is closed
 */
PsPreferencesDialog *
ps_preferences_dialog_new (GtkWindow *parent,
                           PsContext *context,
                           GSettings *settings)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (PS_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (PS_TYPE_PREFERENCES_DIALOG,
                       "use-header-bar", TRUE,
                       "transient-for", parent,
                       "context", context,
                       "settings", settings,
                       NULL);
}

/* ps-diagnostics-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-diagnostics-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-diagnostics-dialog.h"

/* Shows the connectivity checks of a server one by one as they complete,
 * with the advice of each, and copies them as a report.
 */
struct _PsDiagnosticsDialog
{
  GtkDialog      parent_instance;

  PsDiagnostics *diagnostics;
  char          *description;
  GCancellable  *cancellable;

  /* Template widgets */
  GtkSpinner    *spinner;
  GtkLabel      *summary_label;
  GtkListBox    *results_list;
  GtkWidget     *run_button;
};

G_DEFINE_FINAL_TYPE (PsDiagnosticsDialog, ps_diagnostics_dialog, GTK_TYPE_DIALOG)

enum {
  PROP_0,
  PROP_DIAGNOSTICS,
  PROP_DESCRIPTION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  EDIT_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

enum {
  RESPONSE_COPY = 1,
  RESPONSE_RUN = 2,
};


/*
 * Auxiliary methods
 */

static const char *
get_verdict_icon_name (PsDiagnosticVerdict verdict)
{
  switch (verdict)
    {
    case PS_DIAGNOSTIC_PASS:
      return "emblem-ok-symbolic";
    case PS_DIAGNOSTIC_WARNING:
      return "dialog-warning-symbolic";
    case PS_DIAGNOSTIC_FAIL:
      return "dialog-error-symbolic";
    case PS_DIAGNOSTIC_RUNNING:
      return "emblem-synchronizing-symbolic";
    case PS_DIAGNOSTIC_SKIPPED:
      return "action-unavailable-symbolic";
    case PS_DIAGNOSTIC_PENDING:
    default:
      return "content-loading-symbolic";
    }
}

static gboolean
transform_verdict_to_icon (GBinding     *binding,
                           const GValue *from_value,
                           GValue       *to_value,
                           gpointer      user_data)
{
  g_value_set_string (to_value, get_verdict_icon_name (g_value_get_enum (from_value)));
  return TRUE;
}

static gboolean
transform_verdict_to_label (GBinding     *binding,
                            const GValue *from_value,
                            GValue       *to_value,
                            gpointer      user_data)
{
  g_value_set_string (to_value, ps_diagnostic_verdict_get_label (g_value_get_enum (from_value)));
  return TRUE;
}

static gboolean
transform_string_to_visible (GBinding     *binding,
                             const GValue *from_value,
                             GValue       *to_value,
                             gpointer      user_data)
{
  const char *text = g_value_get_string (from_value);

  g_value_set_boolean (to_value, text != NULL && *text != '\0');
  return TRUE;
}

static GtkWidget *
new_wrapped_label (void)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_line_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_can_focus (label, FALSE);

  return label;
}

static void
bind_text (PsDiagnosticResult *result,
           const char         *property,
           GtkWidget          *label)
{
  g_object_bind_property (result, property, label, "label", G_BINDING_SYNC_CREATE);
  g_object_bind_property_full (result, property, label, "visible", G_BINDING_SYNC_CREATE,
                               transform_string_to_visible, NULL, NULL, NULL);
}

/* The next action a failed or doubtful check calls for: the server's
 * setting to change, or, where the cause may pass, another run.
 */
static const struct
{
  const char *check;
  const char *field;
  const char *label;
} fixes[] = {
  { "url", "url", N_("_Edit the Address") },
  { "name-resolution", "url", N_("_Edit the Address") },
  { "http", "url", N_("_Edit the Address") },
  { "tls", "fingerprint", N_("_Edit the Certificate Fingerprint") },
  { "credentials", "password", N_("_Edit the User Name and Password") },
  { "databases", "prefix", N_("_Edit the Database Names") },
};

static GtkWidget *
new_fix_button (PsDiagnosticResult *result)
{
  const char *check = ps_diagnostic_result_get_id (result);
  GtkWidget *button;

  /* The summary row has nothing to fix of its own. */
  if (g_strcmp0 (check, "advice") == 0)
    return NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (fixes); i++)
    {
      if (g_strcmp0 (check, fixes[i].check) == 0)
        {
          button = gtk_button_new_with_mnemonic (_(fixes[i].label));
          gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "diagnostics.edit");
          gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", fixes[i].field);
          return button;
        }
    }

  button = gtk_button_new_with_mnemonic (_("_Try Again"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "diagnostics.retry");
  return button;
}

static void
update_fix_button (GtkWidget          *button,
                   PsDiagnosticResult *result)
{
  PsDiagnosticVerdict verdict = ps_diagnostic_result_get_verdict (result);

  gtk_widget_set_visible (button, verdict == PS_DIAGNOSTIC_FAIL ||
                                  verdict == PS_DIAGNOSTIC_WARNING);
}

static void
on_result_verdict_changed_cb (PsDiagnosticResult *result,
                              GParamSpec         *pspec,
                              GtkWidget          *button)
{
  update_fix_button (button, result);
}

static GtkWidget *
create_result_row_cb (gpointer item,
                      gpointer user_data)
{
  PsDiagnosticResult *result = PS_DIAGNOSTIC_RESULT (item);
  GtkWidget *row, *box, *texts, *heading, *image, *title, *verdict;
  GtkWidget *explanation, *advice, *fingerprint, *fix;
  PangoAttrList *attributes;

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  g_object_set (box, "margin", 12, NULL);
  gtk_container_add (GTK_CONTAINER (row), box);

  image = gtk_image_new ();
  gtk_widget_set_valign (image, GTK_ALIGN_START);
  g_object_bind_property_full (result, "verdict", image, "icon-name", G_BINDING_SYNC_CREATE,
                               transform_verdict_to_icon, NULL, NULL, NULL);
  gtk_container_add (GTK_CONTAINER (box), image);

  texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_hexpand (texts, TRUE);
  gtk_container_add (GTK_CONTAINER (box), texts);

  heading = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_container_add (GTK_CONTAINER (texts), heading);

  title = new_wrapped_label ();
  gtk_widget_set_hexpand (title, TRUE);
  attributes = pango_attr_list_new ();
  pango_attr_list_insert (attributes, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  gtk_label_set_attributes (GTK_LABEL (title), attributes);
  pango_attr_list_unref (attributes);
  g_object_bind_property (result, "title", title, "label", G_BINDING_SYNC_CREATE);
  gtk_container_add (GTK_CONTAINER (heading), title);

  /* The verdict in words, for whoever cannot tell the icons apart. */
  verdict = gtk_label_new (NULL);
  gtk_widget_set_valign (verdict, GTK_ALIGN_START);
  gtk_style_context_add_class (gtk_widget_get_style_context (verdict), "dim-label");
  g_object_bind_property_full (result, "verdict", verdict, "label", G_BINDING_SYNC_CREATE,
                               transform_verdict_to_label, NULL, NULL, NULL);
  gtk_container_add (GTK_CONTAINER (heading), verdict);

  explanation = new_wrapped_label ();
  bind_text (result, "explanation", explanation);
  gtk_container_add (GTK_CONTAINER (texts), explanation);

  advice = new_wrapped_label ();
  gtk_style_context_add_class (gtk_widget_get_style_context (advice), "dim-label");
  bind_text (result, "advice", advice);
  gtk_container_add (GTK_CONTAINER (texts), advice);

  fingerprint = new_wrapped_label ();
  gtk_style_context_add_class (gtk_widget_get_style_context (fingerprint), "monospace");
  bind_text (result, "fingerprint", fingerprint);
  gtk_container_add (GTK_CONTAINER (texts), fingerprint);

  fix = new_fix_button (result);
  if (fix != NULL)
    {
      gtk_widget_set_halign (fix, GTK_ALIGN_START);
      gtk_widget_set_margin_top (fix, 4);
      gtk_container_add (GTK_CONTAINER (texts), fix);
    }

  gtk_widget_show_all (row);
  if (fix != NULL)
    {
      update_fix_button (fix, result);
      g_signal_connect_object (result, "notify::verdict",
                               G_CALLBACK (on_result_verdict_changed_cb), fix, 0);
    }
  /* show_all ignores the bindings: apply them again. */
  gtk_widget_set_visible (explanation, *gtk_label_get_text (GTK_LABEL (explanation)) != '\0');
  gtk_widget_set_visible (advice, *gtk_label_get_text (GTK_LABEL (advice)) != '\0');
  gtk_widget_set_visible (fingerprint, *gtk_label_get_text (GTK_LABEL (fingerprint)) != '\0');

  return row;
}

static void
update_summary (PsDiagnosticsDialog *self)
{
  gboolean running = ps_diagnostics_get_running (self->diagnostics);
  PsDiagnosticVerdict verdict = ps_diagnostics_get_verdict (self->diagnostics);
  const char *summary;

  gtk_widget_set_visible (GTK_WIDGET (self->spinner), running);
  if (running)
    gtk_spinner_start (self->spinner);
  else
    gtk_spinner_stop (self->spinner);
  gtk_widget_set_sensitive (self->run_button, !running);

  if (running)
    summary = _("Checking the connection…");
  else if (verdict == PS_DIAGNOSTIC_PASS)
    summary = _("Everything needed to sync works.");
  else if (verdict == PS_DIAGNOSTIC_WARNING)
    summary = _("Syncing works, but something needs attention.");
  else if (verdict == PS_DIAGNOSTIC_FAIL)
    summary = _("Syncing cannot work until the problems below are solved.");
  else
    summary = "";

  gtk_label_set_text (self->summary_label, summary);
}

static void
on_run_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(PsDiagnosticsDialog) self = PS_DIAGNOSTICS_DIALOG (user_data);
  g_autoptr(GError) error = NULL;

  if (!ps_diagnostics_run_finish (PS_DIAGNOSTICS (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      gtk_label_set_text (self->summary_label, error->message);
    }
}

static void
run (PsDiagnosticsDialog *self)
{
  if (ps_diagnostics_get_running (self->diagnostics))
    return;

  ps_diagnostics_run_async (self->diagnostics, self->cancellable, on_run_cb,
                            g_object_ref (self));
  update_summary (self);
}


/*
 * Callbacks
 */

static void
on_edit_activated_cb (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  PsDiagnosticsDialog *self = PS_DIAGNOSTICS_DIALOG (user_data);
  g_autofree char *field = g_variant_dup_string (parameter, NULL);

  /* Whoever opened the checks knows the server, and opens its dialog. */
  g_object_ref (self);
  g_signal_emit (self, signals[EDIT_REQUESTED], 0, field);
  gtk_widget_destroy (GTK_WIDGET (self));
  g_object_unref (self);
}

static void
on_retry_activated_cb (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  run (PS_DIAGNOSTICS_DIALOG (user_data));
}

static void
on_diagnostics_notify_cb (PsDiagnostics       *diagnostics,
                          GParamSpec          *pspec,
                          PsDiagnosticsDialog *self)
{
  update_summary (self);
}


/*
 * GtkDialog overrides
 */

static void
ps_diagnostics_dialog_response (GtkDialog *dialog,
                                int        response_id)
{
  PsDiagnosticsDialog *self = PS_DIAGNOSTICS_DIALOG (dialog);

  switch (response_id)
    {
    case RESPONSE_COPY:
      {
        g_autofree char *text = ps_diagnostics_to_text (self->diagnostics);
        GtkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self),
                                                            GDK_SELECTION_CLIPBOARD);

        gtk_clipboard_set_text (clipboard, text, -1);
      }
      break;

    case RESPONSE_RUN:
      run (self);
      break;

    case GTK_RESPONSE_CLOSE:
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
ps_diagnostics_dialog_constructed (GObject *object)
{
  PsDiagnosticsDialog *self = (PsDiagnosticsDialog *)object;

  G_OBJECT_CLASS (ps_diagnostics_dialog_parent_class)->constructed (object);

  g_assert (PS_IS_DIAGNOSTICS (self->diagnostics));

  if (self->description != NULL)
    {
      g_autofree char *title = NULL;

      /* Translators: %s is the description of a server */
      title = g_strdup_printf (_("Diagnostics of %s"), self->description);
      gtk_window_set_title (GTK_WINDOW (self), title);
    }

  gtk_list_box_bind_model (self->results_list,
                           ps_diagnostics_get_results (self->diagnostics),
                           create_result_row_cb, NULL, NULL);
  g_signal_connect_object (self->diagnostics, "notify::running",
                           G_CALLBACK (on_diagnostics_notify_cb), self, 0);
  g_signal_connect_object (self->diagnostics, "notify::verdict",
                           G_CALLBACK (on_diagnostics_notify_cb), self, 0);

  run (self);
}

static void
ps_diagnostics_dialog_dispose (GObject *object)
{
  PsDiagnosticsDialog *self = (PsDiagnosticsDialog *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (ps_diagnostics_dialog_parent_class)->dispose (object);
}

static void
ps_diagnostics_dialog_finalize (GObject *object)
{
  PsDiagnosticsDialog *self = (PsDiagnosticsDialog *)object;

  g_clear_object (&self->diagnostics);
  g_clear_pointer (&self->description, g_free);

  G_OBJECT_CLASS (ps_diagnostics_dialog_parent_class)->finalize (object);
}

static void
ps_diagnostics_dialog_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  PsDiagnosticsDialog *self = PS_DIAGNOSTICS_DIALOG (object);

  switch (prop_id)
    {
    case PROP_DIAGNOSTICS:
      g_value_set_object (value, self->diagnostics);
      break;

    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_diagnostics_dialog_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  PsDiagnosticsDialog *self = PS_DIAGNOSTICS_DIALOG (object);

  switch (prop_id)
    {
    case PROP_DIAGNOSTICS:
      self->diagnostics = g_value_dup_object (value);
      break;

    case PROP_DESCRIPTION:
      self->description = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_diagnostics_dialog_class_init (PsDiagnosticsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkDialogClass *dialog_class = GTK_DIALOG_CLASS (klass);

  object_class->constructed = ps_diagnostics_dialog_constructed;
  object_class->dispose = ps_diagnostics_dialog_dispose;
  object_class->finalize = ps_diagnostics_dialog_finalize;
  object_class->get_property = ps_diagnostics_dialog_get_property;
  object_class->set_property = ps_diagnostics_dialog_set_property;

  dialog_class->response = ps_diagnostics_dialog_response;

  properties[PROP_DIAGNOSTICS] =
    g_param_spec_object ("diagnostics", NULL, NULL,
                         PS_TYPE_DIAGNOSTICS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PsDiagnosticsDialog::edit-requested:
   * @field: the server's setting to change: `url`, `username`, `password`,
   *   `fingerprint` or `prefix`
   *
   * The user chose to change the setting a check found wrong; the dialog
   * closes after this.
   */
  signals[EDIT_REQUESTED] =
    g_signal_new ("edit-requested",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/primero/Sync/ps-diagnostics-dialog.ui");

  gtk_widget_class_bind_template_child (widget_class, PsDiagnosticsDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, PsDiagnosticsDialog, summary_label);
  gtk_widget_class_bind_template_child (widget_class, PsDiagnosticsDialog, results_list);
  gtk_widget_class_bind_template_child (widget_class, PsDiagnosticsDialog, run_button);
}

static const GActionEntry dialog_actions[] = {
  { "edit", on_edit_activated_cb, "s" },
  { "retry", on_retry_activated_cb },
};

static void
ps_diagnostics_dialog_init (PsDiagnosticsDialog *self)
{
  g_autoptr(GSimpleActionGroup) actions = g_simple_action_group_new ();

  self->cancellable = g_cancellable_new ();

  g_action_map_add_action_entries (G_ACTION_MAP (actions), dialog_actions,
                                   G_N_ELEMENTS (dialog_actions), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "diagnostics", G_ACTION_GROUP (actions));

  gtk_widget_init_template (GTK_WIDGET (self));
}


/*
 * Public API
 */

/**
 * ps_diagnostics_dialog_new:
 * @parent: the window the dialog belongs to
 * @diagnostics: the checks to run and show
 * @description: (nullable): the description of the server checked
 *
 * Returns: (transfer none): a new dialog, which starts the checks and is
 *   destroyed when it is closed
 */
PsDiagnosticsDialog *
ps_diagnostics_dialog_new (GtkWindow     *parent,
                           PsDiagnostics *diagnostics,
                           const char    *description)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (PS_IS_DIAGNOSTICS (diagnostics), NULL);

  return g_object_new (PS_TYPE_DIAGNOSTICS_DIALOG,
                       "use-header-bar", TRUE,
                       "transient-for", parent,
                       "modal", parent != NULL && gtk_window_get_modal (parent),
                       "diagnostics", diagnostics,
                       "description", description,
                       NULL);
}

PsDiagnostics *
ps_diagnostics_dialog_get_diagnostics (PsDiagnosticsDialog *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTICS_DIALOG (self), NULL);

  return self->diagnostics;
}

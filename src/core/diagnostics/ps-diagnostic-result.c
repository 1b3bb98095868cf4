/* ps-diagnostic-result.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-diagnostic-result"

#include "config.h"

#include <glib/gi18n.h>

#include "ps-diagnostic-result.h"

struct _PsDiagnosticResult
{
  GObject              parent_instance;

  char                *id;
  char                *title;
  PsDiagnosticVerdict  verdict;
  char                *explanation;
  char                *advice;
  guint                duration_ms;
  char                *fingerprint;
  gboolean             fingerprint_matches;
};

G_DEFINE_FINAL_TYPE (PsDiagnosticResult, ps_diagnostic_result, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_TITLE,
  PROP_VERDICT,
  PROP_EXPLANATION,
  PROP_ADVICE,
  PROP_DURATION_MS,
  PROP_FINGERPRINT,
  PROP_FINGERPRINT_MATCHES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
set_string (char       **field,
            const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

GType
ps_diagnostic_verdict_get_type (void)
{
  static gsize type_id = 0;
  static const GEnumValue values[] = {
    { PS_DIAGNOSTIC_PENDING, "PS_DIAGNOSTIC_PENDING", "pending" },
    { PS_DIAGNOSTIC_RUNNING, "PS_DIAGNOSTIC_RUNNING", "running" },
    { PS_DIAGNOSTIC_PASS, "PS_DIAGNOSTIC_PASS", "pass" },
    { PS_DIAGNOSTIC_WARNING, "PS_DIAGNOSTIC_WARNING", "warning" },
    { PS_DIAGNOSTIC_FAIL, "PS_DIAGNOSTIC_FAIL", "fail" },
    { PS_DIAGNOSTIC_SKIPPED, "PS_DIAGNOSTIC_SKIPPED", "skipped" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type_id))
    {
      GType type = g_enum_register_static (g_intern_static_string ("PsDiagnosticVerdict"),
                                           values);

      g_once_init_leave (&type_id, type);
    }

  return type_id;
}

/**
 * ps_diagnostic_verdict_to_string:
 * @verdict: a #PsDiagnosticVerdict
 *
 * Returns: the untranslated keyword for scripts: `pass`, `fail`, …
 */
const char *
ps_diagnostic_verdict_to_string (PsDiagnosticVerdict verdict)
{
  GEnumClass *klass = g_type_class_ref (PS_TYPE_DIAGNOSTIC_VERDICT);
  GEnumValue *value = g_enum_get_value (klass, verdict);

  g_type_class_unref (klass);
  return value != NULL ? value->value_nick : "unknown";
}

/**
 * ps_diagnostic_verdict_get_label:
 * @verdict: a #PsDiagnosticVerdict
 *
 * Returns: the verdict in the user's language
 */
const char *
ps_diagnostic_verdict_get_label (PsDiagnosticVerdict verdict)
{
  switch (verdict)
    {
    case PS_DIAGNOSTIC_PENDING:
      return _("waiting");
    case PS_DIAGNOSTIC_RUNNING:
      return _("checking");
    case PS_DIAGNOSTIC_PASS:
      return _("passed");
    case PS_DIAGNOSTIC_WARNING:
      return _("warning");
    case PS_DIAGNOSTIC_FAIL:
      return _("failed");
    case PS_DIAGNOSTIC_SKIPPED:
      return _("skipped");
    default:
      return "?";
    }
}

/**
 * ps_diagnostic_verdict_get_mark:
 * @verdict: a #PsDiagnosticVerdict
 *
 * Returns: a one-character mark for a line of text
 */
const char *
ps_diagnostic_verdict_get_mark (PsDiagnosticVerdict verdict)
{
  switch (verdict)
    {
    case PS_DIAGNOSTIC_PASS:
      return "✔";
    case PS_DIAGNOSTIC_WARNING:
      return "⚠";
    case PS_DIAGNOSTIC_FAIL:
      return "✘";
    case PS_DIAGNOSTIC_SKIPPED:
      return "–";
    case PS_DIAGNOSTIC_PENDING:
    case PS_DIAGNOSTIC_RUNNING:
    default:
      return "…";
    }
}

/**
 * ps_diagnostic_verdict_is_final:
 * @verdict: a #PsDiagnosticVerdict
 *
 * Returns: whether the check is over
 */
gboolean
ps_diagnostic_verdict_is_final (PsDiagnosticVerdict verdict)
{
  return verdict != PS_DIAGNOSTIC_PENDING && verdict != PS_DIAGNOSTIC_RUNNING;
}

static void
ps_diagnostic_result_finalize (GObject *object)
{
  PsDiagnosticResult *self = (PsDiagnosticResult *)object;

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->explanation, g_free);
  g_clear_pointer (&self->advice, g_free);
  g_clear_pointer (&self->fingerprint, g_free);

  G_OBJECT_CLASS (ps_diagnostic_result_parent_class)->finalize (object);
}

static void
ps_diagnostic_result_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  PsDiagnosticResult *self = PS_DIAGNOSTIC_RESULT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_VERDICT:
      g_value_set_enum (value, self->verdict);
      break;
    case PROP_EXPLANATION:
      g_value_set_string (value, self->explanation);
      break;
    case PROP_ADVICE:
      g_value_set_string (value, self->advice);
      break;
    case PROP_DURATION_MS:
      g_value_set_uint (value, self->duration_ms);
      break;
    case PROP_FINGERPRINT:
      g_value_set_string (value, self->fingerprint);
      break;
    case PROP_FINGERPRINT_MATCHES:
      g_value_set_boolean (value, self->fingerprint_matches);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_diagnostic_result_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  PsDiagnosticResult *self = PS_DIAGNOSTIC_RESULT (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;
    case PROP_TITLE:
      self->title = g_value_dup_string (value);
      break;
    case PROP_VERDICT:
      ps_diagnostic_result_set_verdict (self, g_value_get_enum (value));
      break;
    case PROP_EXPLANATION:
      ps_diagnostic_result_set_explanation (self, g_value_get_string (value));
      break;
    case PROP_ADVICE:
      ps_diagnostic_result_set_advice (self, g_value_get_string (value));
      break;
    case PROP_DURATION_MS:
      ps_diagnostic_result_set_duration_ms (self, g_value_get_uint (value));
      break;
    case PROP_FINGERPRINT:
      ps_diagnostic_result_set_fingerprint (self, g_value_get_string (value));
      break;
    case PROP_FINGERPRINT_MATCHES:
      ps_diagnostic_result_set_fingerprint_matches (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ps_diagnostic_result_class_init (PsDiagnosticResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ps_diagnostic_result_finalize;
  object_class->get_property = ps_diagnostic_result_get_property;
  object_class->set_property = ps_diagnostic_result_set_property;

  /**
   * PsDiagnosticResult:id:
   *
   * A stable name for scripts: `url`, `tls`, `database:primero_child_production`, …
   */
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * PsDiagnosticResult:title:
   *
   * What is checked, in the user's language.
   */
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_VERDICT] =
    g_param_spec_enum ("verdict", NULL, NULL,
                       PS_TYPE_DIAGNOSTIC_VERDICT,
                       PS_DIAGNOSTIC_PENDING,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PsDiagnosticResult:explanation:
   *
   * What was found, in plain words.
   */
  properties[PROP_EXPLANATION] =
    g_param_spec_string ("explanation", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PsDiagnosticResult:advice:
   *
   * What to do about it; %NULL when nothing needs doing.
   */
  properties[PROP_ADVICE] =
    g_param_spec_string ("advice", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_DURATION_MS] =
    g_param_spec_uint ("duration-ms", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PsDiagnosticResult:fingerprint:
   *
   * For the TLS check: the SHA-256 of the server's certificate, as 64
   * lowercase hexadecimal digits.
   */
  properties[PROP_FINGERPRINT] =
    g_param_spec_string ("fingerprint", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * PsDiagnosticResult:fingerprint-matches:
   *
   * For the TLS check: whether the certificate is the one the user pinned.
   */
  properties[PROP_FINGERPRINT_MATCHES] =
    g_param_spec_boolean ("fingerprint-matches", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ps_diagnostic_result_init (PsDiagnosticResult *self)
{
  self->verdict = PS_DIAGNOSTIC_PENDING;
}

/**
 * ps_diagnostic_result_new:
 * @id: a stable name for the check
 * @title: what is checked, in the user's language
 *
 * Returns: (transfer full): a pending result
 */
PsDiagnosticResult *
ps_diagnostic_result_new (const char *id,
                          const char *title)
{
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (title != NULL, NULL);

  return g_object_new (PS_TYPE_DIAGNOSTIC_RESULT,
                       "id", id,
                       "title", title,
                       NULL);
}

const char *
ps_diagnostic_result_get_id (PsDiagnosticResult *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTIC_RESULT (self), NULL);

  return self->id;
}

const char *
ps_diagnostic_result_get_title (PsDiagnosticResult *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTIC_RESULT (self), NULL);

  return self->title;
}

PsDiagnosticVerdict
ps_diagnostic_result_get_verdict (PsDiagnosticResult *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTIC_RESULT (self), PS_DIAGNOSTIC_PENDING);

  return self->verdict;
}

void
ps_diagnostic_result_set_verdict (PsDiagnosticResult  *self,
                                  PsDiagnosticVerdict  verdict)
{
  g_return_if_fail (PS_IS_DIAGNOSTIC_RESULT (self));

  if (self->verdict == verdict)
    return;

  self->verdict = verdict;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERDICT]);
}

const char *
ps_diagnostic_result_get_explanation (PsDiagnosticResult *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTIC_RESULT (self), NULL);

  return self->explanation;
}

void
ps_diagnostic_result_set_explanation (PsDiagnosticResult *self,
                                      const char         *explanation)
{
  g_return_if_fail (PS_IS_DIAGNOSTIC_RESULT (self));

  if (set_string (&self->explanation, explanation))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXPLANATION]);
}

const char *
ps_diagnostic_result_get_advice (PsDiagnosticResult *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTIC_RESULT (self), NULL);

  return self->advice;
}

void
ps_diagnostic_result_set_advice (PsDiagnosticResult *self,
                                 const char         *advice)
{
  g_return_if_fail (PS_IS_DIAGNOSTIC_RESULT (self));

  if (set_string (&self->advice, advice))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ADVICE]);
}

guint
ps_diagnostic_result_get_duration_ms (PsDiagnosticResult *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTIC_RESULT (self), 0);

  return self->duration_ms;
}

void
ps_diagnostic_result_set_duration_ms (PsDiagnosticResult *self,
                                      guint               duration_ms)
{
  g_return_if_fail (PS_IS_DIAGNOSTIC_RESULT (self));

  if (self->duration_ms == duration_ms)
    return;

  self->duration_ms = duration_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DURATION_MS]);
}

const char *
ps_diagnostic_result_get_fingerprint (PsDiagnosticResult *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTIC_RESULT (self), NULL);

  return self->fingerprint;
}

void
ps_diagnostic_result_set_fingerprint (PsDiagnosticResult *self,
                                      const char         *fingerprint)
{
  g_return_if_fail (PS_IS_DIAGNOSTIC_RESULT (self));

  if (set_string (&self->fingerprint, fingerprint))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINGERPRINT]);
}

gboolean
ps_diagnostic_result_get_fingerprint_matches (PsDiagnosticResult *self)
{
  g_return_val_if_fail (PS_IS_DIAGNOSTIC_RESULT (self), FALSE);

  return self->fingerprint_matches;
}

void
ps_diagnostic_result_set_fingerprint_matches (PsDiagnosticResult *self,
                                              gboolean            matches)
{
  g_return_if_fail (PS_IS_DIAGNOSTIC_RESULT (self));

  matches = !!matches;
  if (self->fingerprint_matches == matches)
    return;

  self->fingerprint_matches = matches;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINGERPRINT_MATCHES]);
}

static void
add_nullable_string (JsonBuilder *builder,
                     const char  *name,
                     const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/**
 * ps_diagnostic_result_to_json:
 * @self: a #PsDiagnosticResult
 *
 * Returns: (transfer full): the result as a JSON object for scripts
 */
JsonNode *
ps_diagnostic_result_to_json (PsDiagnosticResult *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (PS_IS_DIAGNOSTIC_RESULT (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, self->id);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, self->title);
  json_builder_set_member_name (builder, "verdict");
  json_builder_add_string_value (builder, ps_diagnostic_verdict_to_string (self->verdict));
  add_nullable_string (builder, "explanation", self->explanation);
  add_nullable_string (builder, "advice", self->advice);
  json_builder_set_member_name (builder, "duration_ms");
  json_builder_add_int_value (builder, self->duration_ms);
  if (self->fingerprint != NULL)
    {
      json_builder_set_member_name (builder, "fingerprint");
      json_builder_add_string_value (builder, self->fingerprint);
      json_builder_set_member_name (builder, "fingerprint_matches");
      json_builder_add_boolean_value (builder, self->fingerprint_matches);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

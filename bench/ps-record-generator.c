/* ps-record-generator.c: synthetic Primero v1 child cases
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-record-generator"

#include "config.h"

#include "ps-record-generator.h"

#include <stdio.h>
#include <string.h>

#define TIME_FORMAT        "%Y/%m/%d %H:%M:%S +0000"
#define REV_ID_LENGTH      32
#define ATTACHMENT_PERCENT 5

typedef struct
{
  const char *user_name;
  const char *full_name;
  const char *organization;
} User;

static const User users[] = {
  { "jmuthoni", "Jane Muthoni", "agency-unicef" },
  { "aokello", "Alfred Okello", "agency-save-the-children" },
  { "bwanjiru", "Beatrice Wanjiru", "agency-irc" },
  { "dnyang", "Daniel Nyang", "agency-unicef" },
  { "fhassan", "Fadumo Hassan", "agency-unhcr" },
  { "pdeng", "Peter Deng", "agency-save-the-children" },
  { "mlokuru", "Mary Lokuru", "agency-irc" },
  { "sabdi", "Said Abdi", "agency-unhcr" },
  { "cp_manager", "Grace Achieng", "agency-unicef" },
};

static const char * const first_names_female[] = {
  "Amina", "Grace", "Fatuma", "Esther", "Mary", "Halima", "Aisha", "Nyakim", "Achol",
  "Ruth", "Sarah", "Zainab", "Rehema", "Nyaluak", "Joy", "Mercy", "Hodan", "Awut",
};

static const char * const first_names_male[] = {
  "Joseph", "Mohamed", "Samuel", "Ibrahim", "Abdi", "John", "Peter", "Deng", "Hassan",
  "Musa", "David", "Gatluak", "Emmanuel", "Yusuf", "Okot", "Simon", "Garang", "Ali",
};

static const char * const last_names[] = {
  "Achieng", "Okello", "Mohamed", "Deng", "Nyang", "Abdi", "Hassan", "Lokuru", "Wani",
  "Garang", "Ochieng", "Mutua", "Kiir", "Ali", "Lual", "Otieno", "Mayen", "Farah",
  "Juma", "Kuol", "Amollo", "Ayuen", "Warsame", "Odongo",
};

static const char * const nationalities[] = {
  "south_sudan", "sudan", "uganda", "kenya", "ethiopia", "somalia", "drc", "burundi",
};

static const char * const ethnicities[] = {
  "dinka", "nuer", "acholi", "somali", "luo", "bari", "murle", "shilluk", "kikuyu",
};

static const char * const religions[] = {
  "christianity", "islam", "traditional", "other",
};

static const char * const languages[] = {
  "english", "arabic", "swahili", "dinka", "nuer", "somali", "acholi", "juba_arabic",
};

static const char * const locations[] = {
  "SS0101", "SS0102", "SS0304", "SS0407", "UG0201", "UG0213", "KE0301", "KE0305",
  "KE0410", "ET0102", "SO0202",
};

static const char * const places[] = {
  "Kakuma Camp", "Dadaab Hagadera", "Juba Town", "Bor South", "Gulu Municipality",
  "Nyarugusu", "Adjumani", "Malakal PoC", "Bentiu PoC", "Kiryandongo",
};

static const char * const displacement_statuses[] = {
  "refugee", "idp", "returnee", "resident", "asylum_seeker",
};

static const char * const risk_levels[] = {
  "high", "medium", "low",
};

static const char * const protection_concerns[] = {
  "unaccompanied", "separated", "orphan", "child_headed_household", "street_child",
  "caafag", "disabled", "sexually_exploited", "gbv_survivor", "chronically_ill",
  "physically_or_mentally_abused", "child_labour", "migrant", "living_with_vulnerable_person",
};

static const char * const relations[] = {
  "mother", "father", "aunt", "uncle", "grandmother", "grandfather", "sibling", "cousin",
  "step_mother", "neighbour",
};

static const char * const service_types[] = {
  "health_medical_service", "psychosocial_service", "education_service",
  "family_tracing_and_reunification", "shelter", "legal_service", "nutrition",
  "cash_assistance", "livelihoods",
};

static const char * const service_states[] = {
  "not_implemented", "implemented", "in_progress",
};

static const char * const months[] = {
  "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static const char * const words[] = {
  "child", "reported", "mother", "father", "family", "camp", "school", "food", "living",
  "with", "aunt", "since", "arrival", "referred", "health", "centre", "follow", "up",
  "visit", "home", "caregiver", "needs", "support", "registered", "separated", "during",
  "conflict", "attack", "village", "travelled", "border", "alone", "siblings", "older",
  "younger", "tracing", "request", "opened", "interview", "conducted", "consent", "given",
  "worker", "assessed", "risk", "safe", "shelter", "clothes", "blankets", "nutrition",
  "attends", "classes", "regularly", "missed", "week", "month", "appointment", "clinic",
  "counselling", "session", "improved", "sleeping", "well", "eating", "playing", "others",
  "the", "and", "was", "has", "is", "to", "of", "in", "on", "at", "for", "by", "no",
};

static const char * const editable_scalars[] = {
  "name_nickname", "telephone_current", "location_current", "address_current",
  "risk_level", "physical_description", "caregiver_name", "displacement_status",
  "ration_card_no", "age", "religion", "language", "interviewer", "notes",
};

/* Change kinds: every editable scalar, then the multi-select and the two
 * subforms.  Two edits of different kinds never touch the same field.
 */
enum
{
  KIND_MULTI_SELECT = G_N_ELEMENTS (editable_scalars),
  KIND_FAMILY,
  KIND_SERVICES,
  N_KINDS,
};

/* Fields with enough distinct values for three leaves to differ on */
static gboolean
is_shareable (guint kind)
{
  static const char * const shareable[] = {
    "name_nickname", "telephone_current", "location_current", "address_current",
    "physical_description", "caregiver_name", "ration_card_no", "interviewer", "notes",
    NULL,
  };

  if (kind >= KIND_MULTI_SELECT)
    return FALSE;

  return g_strv_contains (shareable, editable_scalars[kind]);
}

#define PICK(rand, pool) ((pool)[g_rand_int_range ((rand), 0, G_N_ELEMENTS (pool))])

static char *
random_hex (GRand *rand,
            guint  n_chars)
{
  GString *hex = g_string_sized_new (n_chars + 8);

  while (hex->len < n_chars)
    g_string_append_printf (hex, "%08x", g_rand_int (rand));
  g_string_truncate (hex, n_chars);

  return g_string_free (hex, FALSE);
}

static char *
random_uuid (GRand *rand)
{
  g_autofree char *hex = random_hex (rand, 32);

  return g_strdup_printf ("%.8s-%.4s-4%.3s-%c%.3s-%.12s",
                          hex, hex + 8, hex + 13, "89ab"[g_rand_int_range (rand, 0, 4)],
                          hex + 17, hex + 20);
}

static char *
format_time (gint64 unix_time)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (unix_time);

  return g_date_time_format (time, TIME_FORMAT);
}

static gint64
parse_time (const char *text)
{
  int year, month, day, hour, minute, second;
  g_autoptr(GDateTime) time = NULL;

  if (text == NULL ||
      sscanf (text, "%d/%d/%d %d:%d:%d", &year, &month, &day, &hour, &minute, &second) != 6)
    return 0;

  time = g_date_time_new_utc (year, month, day, hour, minute, second);
  return time != NULL ? g_date_time_to_unix (time) : 0;
}

/* Primero v1 stores date fields as "16-Oct-2014" */
static char *
format_date (gint64 unix_time)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (unix_time);

  return g_strdup_printf ("%02d-%s-%04d", g_date_time_get_day_of_month (time),
                          months[g_date_time_get_month (time) - 1],
                          g_date_time_get_year (time));
}

static char *
random_sentences (GRand *rand,
                  guint  min_words,
                  guint  max_words)
{
  guint n_words = g_rand_int_range (rand, min_words, max_words + 1);
  GString *text = g_string_new (NULL);
  gboolean sentence_start = TRUE;

  for (guint i = 0; i < n_words; i++)
    {
      const char *word = PICK (rand, words);

      if (i > 0)
        g_string_append_c (text, ' ');
      if (sentence_start)
        {
          g_string_append_c (text, g_ascii_toupper (word[0]));
          g_string_append (text, word + 1);
        }
      else
        g_string_append (text, word);

      sentence_start = i + 1 < n_words && g_rand_int_range (rand, 0, 9) == 0;
      if (sentence_start)
        g_string_append_c (text, '.');
    }
  g_string_append_c (text, '.');

  return g_string_free (text, FALSE);
}

static char *
random_phone (GRand *rand)
{
  static const char * const prefixes[] = { "+211 9", "+256 7", "+254 7", "+251 9" };

  return g_strdup_printf ("%s%02d %03d %03d", PICK (rand, prefixes),
                          g_rand_int_range (rand, 0, 100), g_rand_int_range (rand, 0, 1000),
                          g_rand_int_range (rand, 0, 1000));
}

static char *
random_full_name (GRand *rand)
{
  const char *first = g_rand_boolean (rand) ? PICK (rand, first_names_female)
                                            : PICK (rand, first_names_male);

  return g_strdup_printf ("%s %s", first, PICK (rand, last_names));
}

static JsonNode *
string_node (const char *value)
{
  return json_node_init_string (json_node_alloc (), value);
}

static JsonNode *
take_string_node (char *value)
{
  JsonNode *node = string_node (value);

  g_free (value);
  return node;
}

static JsonNode *
random_scalar (GRand      *rand,
               const char *field,
               JsonNode   *current)
{
  if (g_str_equal (field, "age"))
    {
      gint64 age = current != NULL && JSON_NODE_HOLDS_VALUE (current)
                   ? json_node_get_int (current) : 10;

      age = age >= 17 ? age - 1 : age + 1;
      return json_node_init_int (json_node_alloc (), age);
    }
  if (g_str_equal (field, "name_nickname"))
    return string_node (g_rand_boolean (rand) ? PICK (rand, first_names_female)
                                              : PICK (rand, first_names_male));
  if (g_str_equal (field, "telephone_current"))
    return take_string_node (random_phone (rand));
  if (g_str_equal (field, "location_current"))
    return string_node (PICK (rand, locations));
  if (g_str_equal (field, "address_current"))
    return take_string_node (g_strdup_printf ("Block %c%d, %s", 'A' + g_rand_int_range (rand, 0, 8),
                                              g_rand_int_range (rand, 1, 40),
                                              PICK (rand, places)));
  if (g_str_equal (field, "risk_level"))
    return string_node (PICK (rand, risk_levels));
  if (g_str_equal (field, "physical_description"))
    return take_string_node (random_sentences (rand, 3, 10));
  if (g_str_equal (field, "caregiver_name"))
    return take_string_node (random_full_name (rand));
  if (g_str_equal (field, "displacement_status"))
    return string_node (PICK (rand, displacement_statuses));
  if (g_str_equal (field, "ration_card_no"))
    return take_string_node (g_strdup_printf ("RC-%07d", g_rand_int_range (rand, 0, 9999999)));
  if (g_str_equal (field, "religion"))
    return string_node (PICK (rand, religions));
  if (g_str_equal (field, "language"))
    return string_node (PICK (rand, languages));
  if (g_str_equal (field, "interviewer"))
    return take_string_node (random_full_name (rand));

  return take_string_node (random_sentences (rand, 6, 25));
}

/* json_node_copy() shares objects and arrays; edits need their own. */
static JsonNode *
deep_copy (JsonNode *node)
{
  JsonNode *result;

  if (node == NULL)
    return NULL;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      JsonObject *copy = json_object_new ();
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init (&iter, object);
      while (json_object_iter_next (&iter, &name, &member))
        json_object_set_member (copy, name, deep_copy (member));

      /* The node takes over the one reference: init_object would add a second. */
      result = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (result, copy);
      return result;
    }

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      JsonArray *copy = json_array_sized_new (json_array_get_length (array));

      for (guint i = 0; i < json_array_get_length (array); i++)
        json_array_add_element (copy, deep_copy (json_array_get_element (array, i)));

      result = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (result, copy);
      return result;
    }

  return json_node_copy (node);
}

static JsonNode *
null_node (void)
{
  return json_node_init_null (json_node_alloc ());
}

static JsonObject *
from_to (JsonNode *from,
         JsonNode *to)
{
  JsonObject *change = json_object_new ();

  json_object_set_member (change, "from", from != NULL ? deep_copy (from) : null_node ());
  json_object_set_member (change, "to", deep_copy (to));
  return change;
}

/* changes[subform][row unique_id] is the row's own field -> {from, to} */
static JsonObject *
row_changes (JsonObject *changes,
             const char *subform,
             const char *row_id)
{
  JsonObject *rows;
  JsonObject *row;

  if (!json_object_has_member (changes, subform))
    json_object_set_object_member (changes, subform, json_object_new ());
  rows = json_object_get_object_member (changes, subform);

  if (!json_object_has_member (rows, row_id))
    json_object_set_object_member (rows, row_id, json_object_new ());
  row = json_object_get_object_member (rows, row_id);

  return row;
}

static void
set_scalar (GRand      *rand,
            JsonObject *doc,
            JsonObject *changes,
            const char *field,
            JsonNode   *value)
{
  JsonNode *current = json_object_get_member (doc, field);
  g_autoptr(JsonNode) to = value;

  /* a new value equal to the old one would be no change at all */
  while (current != NULL && json_node_equal (current, to))
    {
      json_node_unref (to);
      to = random_scalar (rand, field, current);
    }

  json_object_set_object_member (changes, field, from_to (current, to));
  json_object_set_member (doc, field, g_steal_pointer (&to));
}

static void
edit_multi_select (GRand      *rand,
                   JsonObject *doc,
                   JsonObject *changes)
{
  JsonArray *current = json_object_get_array_member (doc, "protection_concerns");
  g_autoptr(JsonArray) next = json_array_new ();
  g_autoptr(JsonNode) from = json_node_init_array (json_node_alloc (), current);
  g_autoptr(JsonNode) to = NULL;
  guint length = json_array_get_length (current);
  guint dropped = G_MAXUINT;

  if (length > 1 && g_rand_boolean (rand))
    dropped = g_rand_int_range (rand, 0, length);

  for (guint i = 0; i < length; i++)
    {
      if (i != dropped)
        json_array_add_string_element (next, json_array_get_string_element (current, i));
    }

  if (dropped == G_MAXUINT)
    {
      for (;;)
        {
          const char *added = PICK (rand, protection_concerns);
          gboolean present = FALSE;

          for (guint i = 0; i < length; i++)
            present |= g_str_equal (json_array_get_string_element (current, i), added);

          if (!present)
            {
              json_array_add_string_element (next, added);
              break;
            }
        }
    }

  to = json_node_init_array (json_node_alloc (), next);
  json_object_set_object_member (changes, "protection_concerns", from_to (from, to));
  json_object_set_array_member (doc, "protection_concerns", g_steal_pointer (&next));
}

static void
edit_subform_row (GRand      *rand,
                  JsonObject *doc,
                  JsonObject *changes,
                  const char *subform)
{
  JsonArray *rows = json_object_get_array_member (doc, subform);
  JsonObject *row = json_array_get_object_element (rows,
                                                   g_rand_int_range (rand, 0,
                                                                     json_array_get_length (rows)));
  const char *row_id = json_object_get_string_member (row, "unique_id");
  g_autoptr(JsonNode) to = NULL;
  const char *field;

  if (g_str_equal (subform, "family_details_section"))
    {
      switch (g_rand_int_range (rand, 0, 3))
        {
        case 0:
          field = "relation_telephone";
          to = take_string_node (random_phone (rand));
          break;
        case 1:
          field = "relation_location_current";
          to = string_node (PICK (rand, locations));
          break;
        default:
          field = "relation_is_caregiver";
          to = json_node_init_boolean (json_node_alloc (),
                                       !json_object_get_boolean_member_with_default (row, field,
                                                                                     FALSE));
          break;
        }
    }
  else
    {
      switch (g_rand_int_range (rand, 0, 2))
        {
        case 0:
          field = "service_implemented";
          to = string_node (PICK (rand, service_states));
          break;
        default:
          field = "service_notes";
          to = take_string_node (random_sentences (rand, 4, 12));
          break;
        }
    }

  if (json_object_has_member (row, field) &&
      json_node_equal (json_object_get_member (row, field), to))
    {
      /* nothing changes; a note always does */
      field = g_str_equal (subform, "family_details_section") ? "relation_notes"
                                                             : "service_notes";
      json_node_unref (to);
      to = take_string_node (random_sentences (rand, 4, 12));
    }

  json_object_set_object_member (row_changes (changes, subform, row_id), field,
                                 from_to (json_object_get_member (row, field), to));
  json_object_set_member (row, field, g_steal_pointer (&to));
}

static void
apply_change (GRand      *rand,
              JsonObject *doc,
              JsonObject *changes,
              guint       kind)
{
  if (kind < KIND_MULTI_SELECT)
    {
      const char *field = editable_scalars[kind];

      set_scalar (rand, doc, changes, field,
                  random_scalar (rand, field, json_object_get_member (doc, field)));
    }
  else if (kind == KIND_MULTI_SELECT)
    edit_multi_select (rand, doc, changes);
  else if (kind == KIND_FAMILY)
    edit_subform_row (rand, doc, changes, "family_details_section");
  else
    edit_subform_row (rand, doc, changes, "services_section");
}

static void
set_last_updated (JsonObject *doc,
                  const User *user,
                  const char *datetime)
{
  json_object_set_string_member (doc, "last_updated_at", datetime);
  json_object_set_string_member (doc, "last_updated_by", user->user_name);
  json_object_set_string_member (doc, "last_updated_by_full_name", user->full_name);
  json_object_set_string_member (doc, "last_updated_organization", user->organization);
}

/* Applies one save by @user at @when and returns its history entry. */
static JsonObject *
apply_update (GRand       *rand,
              JsonObject  *doc,
              const guint *kinds,
              guint        n_kinds,
              const char  *prev_revision,
              gint64       when,
              const User  *user)
{
  g_autofree char *datetime = format_time (when);
  JsonObject *entry = json_object_new ();
  JsonObject *changes = json_object_new ();

  for (guint i = 0; i < n_kinds; i++)
    apply_change (rand, doc, changes, kinds[i]);

  set_last_updated (doc, user, datetime);

  json_object_set_member (entry, "unique_id", take_string_node (random_uuid (rand)));
  json_object_set_string_member (entry, "datetime", datetime);
  json_object_set_string_member (entry, "user_name", user->user_name);
  json_object_set_string_member (entry, "user_organization", user->organization);
  json_object_set_string_member (entry, "prev_revision", prev_revision);
  json_object_set_string_member (entry, "action", "update");
  json_object_set_object_member (entry, "changes", changes);

  return entry;
}

/* 1-3 distinct change kinds; most saves touch one or two fields */
static guint
pick_kinds (GRand *rand,
            guint *kinds)
{
  guint dice = g_rand_int_range (rand, 0, 20);
  guint n_kinds = dice < 11 ? 1 : dice < 18 ? 2 : 3;

  for (guint i = 0; i < n_kinds; i++)
    {
      gboolean again;

      do
        {
          kinds[i] = g_rand_int_range (rand, 0, N_KINDS);
          again = FALSE;
          for (guint j = 0; j < i; j++)
            again |= kinds[j] == kinds[i];
        }
      while (again);
    }

  return n_kinds;
}

static JsonObject *
family_row (GRand      *rand,
            const char *last_name)
{
  static const char * const female_relations[] = {
    "mother", "aunt", "grandmother", "step_mother", NULL,
  };
  static const char * const male_relations[] = {
    "father", "uncle", "grandfather", NULL,
  };
  JsonObject *row = json_object_new ();
  const char *relation = PICK (rand, relations);
  gboolean female = g_strv_contains (female_relations, relation) ||
                    (!g_strv_contains (male_relations, relation) && g_rand_boolean (rand));
  int age = g_rand_int_range (rand, 8, 75);

  json_object_set_member (row, "unique_id", take_string_node (random_uuid (rand)));
  json_object_set_member (row, "relation_name",
                          take_string_node (g_strdup_printf ("%s %s",
                                                             female
                                                             ? PICK (rand, first_names_female)
                                                             : PICK (rand, first_names_male),
                                                             last_name)));
  json_object_set_string_member (row, "relation", relation);
  json_object_set_string_member (row, "relation_sex", female ? "female" : "male");
  json_object_set_int_member (row, "relation_age", age);
  json_object_set_boolean_member (row, "relation_is_alive", g_rand_int_range (rand, 0, 6) != 0);
  json_object_set_boolean_member (row, "relation_is_caregiver", g_rand_boolean (rand));
  json_object_set_string_member (row, "relation_nationality", PICK (rand, nationalities));
  json_object_set_member (row, "relation_telephone", take_string_node (random_phone (rand)));
  json_object_set_string_member (row, "relation_location_current", PICK (rand, locations));
  json_object_set_boolean_member (row, "relation_child_is_in_contact", g_rand_boolean (rand));
  return row;
}

static JsonObject *
service_row (GRand  *rand,
             gint64  registered)
{
  JsonObject *row = json_object_new ();
  const User *provider = &PICK (rand, users);
  gint64 appointment = registered + g_rand_int_range (rand, 1, 90) * 86400;

  json_object_set_member (row, "unique_id", take_string_node (random_uuid (rand)));
  json_object_set_string_member (row, "service_type", PICK (rand, service_types));
  json_object_set_member (row, "service_response_day_time",
                          take_string_node (format_time (registered)));
  json_object_set_member (row, "service_appointment_date",
                          take_string_node (format_date (appointment)));
  json_object_set_string_member (row, "service_implementing_agency", provider->organization);
  json_object_set_string_member (row, "service_provider", provider->full_name);
  json_object_set_boolean_member (row, "service_referral", g_rand_boolean (rand));
  json_object_set_string_member (row, "service_implemented", PICK (rand, service_states));
  json_object_set_member (row, "service_notes", take_string_node (random_sentences (rand, 4, 12)));
  return row;
}

/* A small picture-like blob: JPEG markers around noise. */
static char *
random_photo_base64 (GRand *rand)
{
  static const guint8 header[] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
  };
  gsize size = g_rand_int_range (rand, 2048, 20481);
  g_autofree guint8 *bytes = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    bytes[i] = g_rand_int (rand) & 0xff;
  memcpy (bytes, header, sizeof header);
  bytes[size - 2] = 0xff;
  bytes[size - 1] = 0xd9;

  return g_base64_encode (bytes, size);
}

static JsonObject *
revisions_object (guint      start,
                  JsonArray *ids)
{
  JsonObject *revisions = json_object_new ();

  json_object_set_int_member (revisions, "start", start);
  json_object_set_array_member (revisions, "ids", ids);
  return revisions;
}

/**
 * ps_record_generator_child:
 * @rand: the source of randomness; the same state gives the same record
 * @index: the record's position in its data set
 *
 * Returns: (transfer full): a Primero v1 child case as stored after several
 *   saves, with `_id`, `_rev` and `_revisions`, ready for `_bulk_docs` with
 *   `new_edits: false`
 */
JsonNode *
ps_record_generator_child (GRand *rand,
                           guint  index)
{
  g_autoptr(JsonObject) doc = json_object_new ();
  g_autoptr(GPtrArray) rev_ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) entries = g_ptr_array_new ();
  g_autofree char *id = NULL;
  g_autofree char *rev = NULL;
  g_autofree char *uuid = NULL;
  g_autofree char *created_at = NULL;
  g_autofree char *first = NULL;
  g_autofree char *middle = NULL;
  g_autofree char *last = NULL;
  JsonArray *ids = json_array_new ();
  JsonArray *concerns = json_array_new ();
  JsonArray *family = json_array_new ();
  JsonArray *services = json_array_new ();
  JsonArray *histories = json_array_new ();
  JsonArray *nationality = json_array_new ();
  JsonArray *assigned = json_array_new ();
  JsonArray *photo_keys = json_array_new ();
  guint depth = g_rand_int_range (rand, 4, 12);
  guint n_histories = g_rand_int_range (rand, 3, MIN (10, depth - 1) + 1);
  gboolean female = g_rand_boolean (rand);
  int age = g_rand_int_range (rand, 0, 18);
  gint64 created = 1388534400 + (gint64) g_rand_int_range (rand, 0, 3 * 365) * 86400 +
                   g_rand_int_range (rand, 6 * 3600, 18 * 3600);
  gint64 when = created;
  const User *creator = &PICK (rand, users);
  const User *owner = g_rand_int_range (rand, 0, 3) == 0 ? &PICK (rand, users) : creator;
  guint n_concerns = g_rand_int_range (rand, 1, 5);
  guint n_family = g_rand_int_range (rand, 3, 6);
  guint n_services = g_rand_int_range (rand, 1, 4);

  id = random_hex (rand, 32);
  for (guint i = 0; i < depth; i++)
    {
      char *rev_id = random_hex (rand, REV_ID_LENGTH);

      g_ptr_array_add (rev_ids, rev_id);
      json_array_add_string_element (ids, rev_id);
    }
  rev = g_strdup_printf ("%u-%s", depth, (char *) g_ptr_array_index (rev_ids, 0));

  json_object_set_string_member (doc, "_id", id);
  json_object_set_string_member (doc, "_rev", rev);
  json_object_set_object_member (doc, "_revisions", revisions_object (depth, ids));
  json_object_set_string_member (doc, "couchrest-type", "Child");
  json_object_set_string_member (doc, "module_id", "primeromodule-cp");
  json_object_set_boolean_member (doc, "record_state", TRUE);
  json_object_set_string_member (doc, "child_status", "Open");

  /* Primero: case_id is the unique identifier, the short id its tail */
  uuid = random_uuid (rand);
  json_object_set_string_member (doc, "unique_identifier", uuid);
  json_object_set_string_member (doc, "case_id", uuid);
  json_object_set_string_member (doc, "short_id", uuid + strlen (uuid) - 7);
  json_object_set_string_member (doc, "case_id_display", uuid + strlen (uuid) - 7);

  first = g_strdup (female ? PICK (rand, first_names_female) : PICK (rand, first_names_male));
  middle = g_strdup (PICK (rand, first_names_male));
  last = g_strdup (PICK (rand, last_names));
  json_object_set_member (doc, "name", take_string_node (g_strdup_printf ("%s %s", first, last)));
  json_object_set_string_member (doc, "name_first", first);
  json_object_set_string_member (doc, "name_middle", middle);
  json_object_set_string_member (doc, "name_last", last);
  json_object_set_string_member (doc, "name_nickname",
                                 female ? PICK (rand, first_names_female)
                                        : PICK (rand, first_names_male));
  json_object_set_string_member (doc, "sex", female ? "female" : "male");
  json_object_set_int_member (doc, "age", age);
  json_object_set_member (doc, "date_of_birth",
                          take_string_node (format_date (created - (gint64) age * 31557600 -
                                                         g_rand_int_range (rand, 0, 365) * 86400)));
  json_object_set_boolean_member (doc, "estimated", g_rand_boolean (rand));
  json_array_add_string_element (nationality, PICK (rand, nationalities));
  json_object_set_array_member (doc, "nationality", nationality);
  json_object_set_string_member (doc, "ethnicity", PICK (rand, ethnicities));
  json_object_set_string_member (doc, "religion", PICK (rand, religions));
  json_object_set_string_member (doc, "language", PICK (rand, languages));
  json_object_set_string_member (doc, "location_current", PICK (rand, locations));
  json_object_set_member (doc, "address_current", random_scalar (rand, "address_current", NULL));
  json_object_set_member (doc, "telephone_current", take_string_node (random_phone (rand)));
  json_object_set_member (doc, "registration_date", take_string_node (format_date (created)));
  json_object_set_string_member (doc, "displacement_status", PICK (rand, displacement_statuses));
  json_object_set_member (doc, "unhcr_id_no",
                          take_string_node (g_strdup_printf ("%03d-%08d",
                                                             g_rand_int_range (rand, 100, 999),
                                                             g_rand_int_range (rand, 0,
                                                                               99999999))));
  json_object_set_member (doc, "ration_card_no", random_scalar (rand, "ration_card_no", NULL));
  json_object_set_member (doc, "icrc_ref_no", take_string_node (g_strdup_printf ("ICRC-%06u",
                                                                                 index + 1)));
  json_object_set_member (doc, "physical_description",
                          random_scalar (rand, "physical_description", NULL));
  json_object_set_member (doc, "caregiver_name", take_string_node (random_full_name (rand)));
  json_object_set_member (doc, "interview_date", take_string_node (format_date (created)));
  json_object_set_string_member (doc, "interviewer", creator->full_name);
  json_object_set_boolean_member (doc, "consent_for_services", g_rand_int_range (rand, 0, 5) != 0);
  json_object_set_string_member (doc, "risk_level", PICK (rand, risk_levels));

  for (guint i = 0; i < n_concerns; i++)
    {
      const char *concern = protection_concerns[(g_rand_int_range (rand, 0, 3) + i * 3) %
                                                G_N_ELEMENTS (protection_concerns)];

      json_array_add_string_element (concerns, concern);
    }
  json_object_set_array_member (doc, "protection_concerns", concerns);

  json_object_set_string_member (doc, "owned_by", owner->user_name);
  json_object_set_string_member (doc, "owned_by_full_name", owner->full_name);
  json_object_set_string_member (doc, "owned_by_agency", owner->organization);
  json_array_add_string_element (assigned, owner->user_name);
  json_object_set_array_member (doc, "assigned_user_names", assigned);

  created_at = format_time (created);
  json_object_set_string_member (doc, "created_by", creator->user_name);
  json_object_set_string_member (doc, "created_by_full_name", creator->full_name);
  json_object_set_string_member (doc, "created_organization", creator->organization);
  json_object_set_string_member (doc, "created_at", created_at);
  set_last_updated (doc, creator, created_at);
  json_object_set_member (doc, "notes", random_scalar (rand, "notes", NULL));

  for (guint i = 0; i < n_family; i++)
    json_array_add_object_element (family, family_row (rand, last));
  json_object_set_array_member (doc, "family_details_section", family);
  for (guint i = 0; i < n_services; i++)
    json_array_add_object_element (services, service_row (rand, created));
  json_object_set_array_member (doc, "services_section", services);

  /* The saves with histories are the last ones; earlier saves (photo
   * processing, mobile flags) left none.
   */
  for (guint i = 0; i < n_histories; i++)
    {
      guint generation = depth - n_histories + 1 + i;
      g_autofree char *prev = g_strdup_printf ("%u-%s", generation - 1,
                                               (char *) g_ptr_array_index (rev_ids,
                                                                           depth - generation + 1));
      guint kinds[3];
      guint n_kinds = pick_kinds (rand, kinds);

      when += g_rand_int_range (rand, 600, 30 * 86400);
      g_ptr_array_add (entries, apply_update (rand, doc, kinds, n_kinds, prev, when,
                                              &PICK (rand, users)));
    }

  for (guint i = entries->len; i > 0; i--)
    json_array_add_object_element (histories, g_ptr_array_index (entries, i - 1));
  json_object_set_array_member (doc, "histories", histories);

  if (g_rand_int_range (rand, 0, 100) < ATTACHMENT_PERCENT)
    {
      JsonObject *attachments = json_object_new ();
      JsonObject *photo = json_object_new ();

      json_object_set_string_member (photo, "content_type", "image/jpeg");
      json_object_set_member (photo, "data", take_string_node (random_photo_base64 (rand)));
      json_object_set_object_member (attachments, "photo.jpg", photo);
      json_object_set_object_member (doc, "_attachments", attachments);
      json_array_add_string_element (photo_keys, "photo.jpg");
      json_object_set_string_member (doc, "current_photo_key", "photo.jpg");
    }
  json_object_set_array_member (doc, "photo_keys", photo_keys);

  return json_node_init_object (json_node_alloc (), doc);
}

static guint
rev_generation (JsonObject *doc)
{
  const char *rev = json_object_get_string_member_with_default (doc, "_rev", "0-");

  return (guint) g_ascii_strtoull (rev, NULL, 10);
}

/* A copy of @record one revision further, with @rev_id as the new revision
 * and `_revisions` extending the record's.
 */
static JsonObject *
child_revision (JsonNode   *record,
                const char *rev_id)
{
  JsonNode *copy = deep_copy (record);
  JsonObject *doc = json_object_ref (json_node_get_object (copy));
  JsonObject *old_revisions = json_object_get_object_member (doc, "_revisions");
  guint generation = rev_generation (doc);
  g_autofree char *rev = g_strdup_printf ("%u-%s", generation + 1, rev_id);
  JsonArray *ids = json_array_new ();

  json_array_add_string_element (ids, rev_id);
  if (old_revisions != NULL && json_object_has_member (old_revisions, "ids"))
    {
      JsonArray *old_ids = json_object_get_array_member (old_revisions, "ids");

      for (guint i = 0; i < json_array_get_length (old_ids); i++)
        json_array_add_string_element (ids, json_array_get_string_element (old_ids, i));
    }
  else
    {
      const char *old_rev = json_object_get_string_member (doc, "_rev");

      json_array_add_string_element (ids, strchr (old_rev, '-') + 1);
    }

  json_object_set_string_member (doc, "_rev", rev);
  json_object_set_object_member (doc, "_revisions", revisions_object (generation + 1, ids));
  json_node_unref (copy);

  return doc;
}

/* One more save of @record: the changes of @kinds, a new history entry,
 * a new revision.
 */
static JsonNode *
edit_record (GRand       *rand,
             JsonNode    *record,
             const guint *kinds,
             guint        n_kinds,
             gint64       when,
             const User  *user)
{
  g_autofree char *rev_id = random_hex (rand, REV_ID_LENGTH);
  g_autoptr(JsonObject) doc = child_revision (record, rev_id);
  JsonObject *original = json_node_get_object (record);
  const char *prev_revision = json_object_get_string_member (original, "_rev");
  JsonArray *old_histories = NULL;
  JsonArray *histories = json_array_new ();
  JsonObject *entry;

  entry = apply_update (rand, doc, kinds, n_kinds, prev_revision, when, user);
  json_array_add_object_element (histories, entry);

  if (json_object_has_member (original, "histories"))
    old_histories = json_object_get_array_member (original, "histories");
  for (guint i = 0; old_histories != NULL && i < json_array_get_length (old_histories); i++)
    json_array_add_element (histories, deep_copy (json_array_get_element (old_histories, i)));
  json_object_set_array_member (doc, "histories", histories);

  return json_node_init_object (json_node_alloc (), doc);
}

static gint64
last_update_time (JsonNode *record)
{
  JsonObject *doc = json_node_get_object (record);

  return parse_time (json_object_get_string_member_with_default (doc, "last_updated_at",
                                                                 NULL));
}

/**
 * ps_record_generator_edit:
 *
 * Returns: (transfer full): @record saved once more by another user: one to
 *   three fields changed, a new history entry, a child revision, for
 *   `_bulk_docs` with `new_edits: false`
 */
JsonNode *
ps_record_generator_edit (GRand    *rand,
                          JsonNode *record)
{
  guint kinds[3];
  guint n_kinds;
  gint64 when;

  g_return_val_if_fail (rand != NULL, NULL);
  g_return_val_if_fail (record != NULL && JSON_NODE_HOLDS_OBJECT (record), NULL);

  n_kinds = pick_kinds (rand, kinds);
  when = last_update_time (record) + g_rand_int_range (rand, 600, 14 * 86400);
  return edit_record (rand, record, kinds, n_kinds, when, &PICK (rand, users));
}

/**
 * ps_record_generator_conflict_leaves:
 * @n_leaves: 2 or 3
 *
 * Sibling revisions of @record as two or three instances would save it
 * without seeing each other: every leaf changes one field they all change
 * (to different values) and fields no other leaf touches.
 *
 * Returns: (transfer full): the leaves, to write after @record
 */
JsonArray *
ps_record_generator_conflict_leaves (GRand    *rand,
                                     JsonNode *record,
                                     guint     n_leaves)
{
  JsonArray *leaves = json_array_new ();
  guint order[N_KINDS];
  guint shared;
  guint attempts = 0;
  gint64 base_time;

  g_return_val_if_fail (rand != NULL, leaves);
  g_return_val_if_fail (record != NULL && JSON_NODE_HOLDS_OBJECT (record), leaves);

  n_leaves = CLAMP (n_leaves, 2, 3);
  base_time = last_update_time (record);

  /* a shuffled list of kinds: the first is the shared field, the
   * following ones are dealt out to the leaves */
  for (guint i = 0; i < N_KINDS; i++)
    order[i] = i;
  for (guint i = N_KINDS - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, i + 1);
      guint swap = order[i];

      order[i] = order[j];
      order[j] = swap;
    }
  for (guint i = 0; i < N_KINDS; i++)
    {
      if (is_shareable (order[i]))
        {
          guint swap = order[0];

          order[0] = order[i];
          order[i] = swap;
          break;
        }
    }
  shared = order[0];

  for (guint leaf = 0; leaf < n_leaves; leaf++)
    {
      guint kinds[3] = { shared, order[1 + leaf * 2], order[2 + leaf * 2] };
      guint n_kinds = g_rand_boolean (rand) ? 3 : 2;
      gint64 when = base_time + g_rand_int_range (rand, 600, 7 * 86400);
      JsonNode *node;

      node = edit_record (rand, record, kinds, n_kinds, when, &PICK (rand, users));

      /* the shared field must end up different on every leaf */
      for (guint other = 0; other < leaf; other++)
        {
          JsonObject *doc = json_node_get_object (node);
          JsonObject *other_doc = json_array_get_object_element (leaves, other);
          const char *field = editable_scalars[shared];

          if (json_node_equal (json_object_get_member (doc, field),
                               json_object_get_member (other_doc, field)))
            {
              json_node_unref (node);
              node = NULL;
              break;
            }
        }

      if (node == NULL)
        {
          g_assert (++attempts < 1000);
          leaf--;
          continue;
        }

      json_array_add_element (leaves, node);
    }

  return leaves;
}

/**
 * ps_record_generator_deleted:
 *
 * Returns: (transfer full): a tombstone child of @record; its revision id
 *   derives from the record's, so the same record always gets the same one
 */
JsonNode *
ps_record_generator_deleted (JsonNode *record)
{
  JsonObject *original;
  g_autofree char *seed = NULL;
  g_autofree char *rev_id = NULL;
  g_autoptr(JsonObject) full = NULL;
  g_autoptr(JsonObject) tombstone = json_object_new ();

  g_return_val_if_fail (record != NULL && JSON_NODE_HOLDS_OBJECT (record), NULL);

  original = json_node_get_object (record);
  seed = g_strdup_printf ("%s:%s:deleted", json_object_get_string_member (original, "_id"),
                          json_object_get_string_member (original, "_rev"));
  rev_id = g_compute_checksum_for_string (G_CHECKSUM_MD5, seed, -1);
  full = child_revision (record, rev_id);

  json_object_set_string_member (tombstone, "_id", json_object_get_string_member (full, "_id"));
  json_object_set_string_member (tombstone, "_rev", json_object_get_string_member (full, "_rev"));
  json_object_set_member (tombstone, "_revisions",
                          json_node_copy (json_object_get_member (full, "_revisions")));
  json_object_set_boolean_member (tombstone, "_deleted", TRUE);

  return json_node_init_object (json_node_alloc (), tombstone);
}

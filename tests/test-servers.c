/* test-servers.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-servers"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ps-server.h"
#include "ps-server-store.h"

static guint
mode_of (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 0777;
}

static char *
store_directory (void)
{
  return g_build_filename (g_get_user_config_dir (), "store-test", NULL);
}

static PsServer *
new_valid_server (const char *description)
{
  return ps_server_new (description, "https://example.org:6984");
}

static void
test_normalize_url (void)
{
  const struct {
    const char *input;
    const char *normalized;
    gboolean insecure;
  } good[] = {
    { "https://example.org", "https://example.org", FALSE },
    { "https://example.org/", "https://example.org", FALSE },
    { "  HTTPS://Example.ORG:6984/ ", "https://example.org:6984", FALSE },
    { "https://example.org:443", "https://example.org", FALSE },
    { "https://example.org:6984/couch/", "https://example.org:6984/couch", FALSE },
    { "http://example.org:80/couch//", "http://example.org/couch", TRUE },
    { "http://10.0.0.5:5984", "http://10.0.0.5:5984", TRUE },
    { "http://127.0.0.1:5984", "http://127.0.0.1:5984", FALSE },
    { "http://localhost:5984/", "http://localhost:5984", FALSE },
    { "http://[::1]:5984", "http://[::1]:5984", FALSE },
    { "https://[2001:db8::1]:6984", "https://[2001:db8::1]:6984", FALSE },
  };
  const struct {
    const char *input;
    const char *message_part;
  } bad[] = {
    { "", NULL },
    { "   ", NULL },
    { "example.org:5984", "https://" },
    { "localhost:5984", "https://" },
    { "example.org", "https://" },
    { "ftp://example.org", "Only http and https URLs are supported" },
    { "couchdb://example.org", "Only http and https URLs are supported" },
    { "https://", "The URL has no host" },
    { "http:///db", "The URL has no host" },
    { "https://admin:s3cret@example.org", "must not contain a user name or password" },
    { "https://admin@example.org", "must not contain a user name or password" },
    { "https://admin:s3cret@exa mple.org:port", "must not contain a user name or password" },
    { "https://example.org/?a=b", NULL },
    { "https://example.org/#top", NULL },
    { "https://example.org:99999", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *normalized = NULL;
      gboolean insecure = !good[i].insecure;

      g_test_message ("good URL %s", good[i].input);
      g_assert_true (ps_server_normalize_url (good[i].input, &normalized, &insecure, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (normalized, ==, good[i].normalized);
      g_assert_cmpint (insecure, ==, good[i].insecure);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *normalized = NULL;

      g_test_message ("bad URL %s", bad[i].input);
      g_assert_false (ps_server_normalize_url (bad[i].input, &normalized, NULL, &error));
      g_assert_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID_URL);
      g_assert_null (normalized);
      g_assert_null (strstr (error->message, "s3cret"));
      if (bad[i].message_part != NULL)
        g_assert_nonnull (strstr (error->message, bad[i].message_part));
    }
}

static void
test_defaults (void)
{
  g_autoptr(PsServer) server = new_valid_server ("Field office");
  g_autoptr(PsServer) other = new_valid_server ("Other");
  g_auto(GStrv) names = NULL;
  g_autoptr(GError) error = NULL;
  const char * const expected_types[] = { "child", "incident", "tracing_request", NULL };

  g_assert_true (g_uuid_string_is_valid (ps_server_get_id (server)));
  g_assert_cmpstr (ps_server_get_id (server), !=, ps_server_get_id (other));
  g_assert_cmpstr (ps_server_get_description (server), ==, "Field office");
  g_assert_cmpint (ps_server_get_direction (server), ==, PS_SYNC_DIRECTION_BOTH);
  g_assert_false (ps_server_get_continuous (server));
  g_assert_cmpstr (ps_server_get_database_prefix (server), ==, "primero");
  g_assert_cmpstr (ps_server_get_database_suffix (server), ==, "production");
  g_assert_cmpstrv (ps_server_get_record_types (server), expected_types);
  g_assert_cmpuint (g_strv_length ((char **) ps_server_get_databases (server)), ==, 0);
  g_assert_null (ps_server_get_username (server));
  g_assert_null (ps_server_get_pinned_fingerprint (server));
  g_assert_cmpint (ps_server_get_last_sync_time (server), ==, 0);
  g_assert_true (ps_server_validate (server, &error));
  g_assert_no_error (error);
}

static void
test_database_names (void)
{
  g_autoptr(PsServer) server = new_valid_server ("Field office");
  const char * const derived[] = {
    "primero_child_production", "primero_incident_production",
    "primero_tracing_request_production", NULL
  };
  const char * const custom[] = { "kenya_child_staging", "kenya_incident_staging", NULL };
  const char * const bare[] = { "child", NULL };
  const char * const explicit_list[] = { "cases", "other_db", NULL };
  const char * const two_types[] = { "child", "incident", NULL };
  const char * const one_type[] = { "child", NULL };
  g_autoptr(GError) error = NULL;

  {
    g_auto(GStrv) names = ps_server_dup_database_names (server);
    g_assert_cmpstrv (names, derived);
  }

  ps_server_set_database_prefix (server, "kenya");
  ps_server_set_database_suffix (server, "staging");
  ps_server_set_record_types (server, two_types);
  {
    g_auto(GStrv) names = ps_server_dup_database_names (server);
    g_assert_cmpstrv (names, custom);
  }

  ps_server_set_database_prefix (server, "");
  ps_server_set_database_suffix (server, NULL);
  ps_server_set_record_types (server, one_type);
  {
    g_auto(GStrv) names = ps_server_dup_database_names (server);
    g_assert_cmpstrv (names, bare);
  }

  /* An explicit list wins; clearing it derives the names again. */
  ps_server_set_databases (server, explicit_list);
  {
    g_auto(GStrv) names = ps_server_dup_database_names (server);
    g_assert_cmpstrv (names, explicit_list);
  }
  ps_server_set_databases (server, NULL);
  {
    g_auto(GStrv) names = ps_server_dup_database_names (server);
    g_assert_cmpstrv (names, bare);
  }

  /* CouchDB refuses such names; so does validation. */
  {
    const char * const invalid[] = { "Cases", NULL };

    ps_server_set_databases (server, invalid);
    g_assert_false (ps_server_validate (server, &error));
    g_assert_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID);
  }
}

static void
test_direction (void)
{
  g_autoptr(PsServer) server = new_valid_server ("Field office");
  PsSyncDirection direction = PS_SYNC_DIRECTION_BOTH;
  g_autoptr(GEnumClass) klass = g_type_class_ref (PS_TYPE_SYNC_DIRECTION);

  g_assert_true (G_TYPE_IS_ENUM (PS_TYPE_SYNC_DIRECTION));
  g_assert_cmpstr (ps_sync_direction_to_string (PS_SYNC_DIRECTION_PUSH), ==, "push");
  g_assert_cmpstr (ps_sync_direction_to_string (PS_SYNC_DIRECTION_PULL), ==, "pull");
  g_assert_cmpstr (ps_sync_direction_to_string (PS_SYNC_DIRECTION_BOTH), ==, "both");
  g_assert_true (ps_sync_direction_from_string ("pull", &direction));
  g_assert_cmpint (direction, ==, PS_SYNC_DIRECTION_PULL);
  g_assert_false (ps_sync_direction_from_string ("sideways", &direction));
  g_assert_cmpint (direction, ==, PS_SYNC_DIRECTION_PULL);
  g_assert_nonnull (g_enum_get_value_by_nick (klass, "push"));

  g_object_set (server, "direction", PS_SYNC_DIRECTION_PUSH, NULL);
  g_assert_cmpint (ps_server_get_direction (server), ==, PS_SYNC_DIRECTION_PUSH);
}

static void
on_notify_cb (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  GPtrArray *names = user_data;

  g_ptr_array_add (names, g_strdup (pspec->name));
}

static void
test_notify (void)
{
  g_autoptr(PsServer) server = new_valid_server ("Field office");
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  g_signal_connect (server, "notify", G_CALLBACK (on_notify_cb), names);

  ps_server_set_description (server, "Field office");
  ps_server_set_url (server, "https://EXAMPLE.org:6984/");
  ps_server_set_continuous (server, FALSE);
  ps_server_set_direction (server, PS_SYNC_DIRECTION_BOTH);
  g_assert_cmpuint (names->len, ==, 0);

  ps_server_set_description (server, "  Head office ");
  g_assert_cmpstr (ps_server_get_description (server), ==, "Head office");
  ps_server_set_continuous (server, TRUE);
  ps_server_set_url (server, "http://example.org:5984");
  g_assert_cmpuint (names->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (names, 0), ==, "description");
  g_assert_cmpstr (g_ptr_array_index (names, 1), ==, "continuous");
  g_assert_cmpstr (g_ptr_array_index (names, 2), ==, "url");
  g_assert_cmpstr (g_ptr_array_index (names, 3), ==, "is-insecure");
  g_assert_true (ps_server_get_is_insecure (server));
}

static void
test_fingerprint (void)
{
  g_autoptr(PsServer) server = new_valid_server ("Field office");
  g_autoptr(GError) error = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *colons = NULL;
  g_autoptr(GString) with_colons = g_string_new (NULL);

  hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "certificate", -1);
  for (guint i = 0; i < 64; i += 2)
    g_string_append_printf (with_colons, "%s%c%c", i > 0 ? ":" : "",
                            g_ascii_toupper (hex[i]), g_ascii_toupper (hex[i + 1]));

  colons = ps_server_normalize_fingerprint (with_colons->str, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (colons, ==, hex);

  ps_server_set_pinned_fingerprint (server, with_colons->str);
  g_assert_cmpstr (ps_server_get_pinned_fingerprint (server), ==, hex);

  g_assert_null (ps_server_normalize_fingerprint ("abcd", &error));
  g_assert_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID);
  g_clear_error (&error);

  ps_server_set_pinned_fingerprint (server, "not a fingerprint");
  g_assert_false (ps_server_validate (server, &error));
  g_assert_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID);
}

static void
test_json_round_trip (void)
{
  g_autoptr(PsServer) server = new_valid_server ("Field office");
  g_autoptr(PsServer) copy = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  const char * const databases[] = { "cases_a", "cases_b", NULL };
  const char * const types[] = { "child", NULL };

  ps_server_set_username (server, "admin");
  ps_server_set_continuous (server, TRUE);
  ps_server_set_direction (server, PS_SYNC_DIRECTION_PULL);
  ps_server_set_database_prefix (server, "p");
  ps_server_set_database_suffix (server, "s");
  ps_server_set_databases (server, databases);
  ps_server_set_record_types (server, types);
  ps_server_set_last_outcome (server, "3 records pulled");
  ps_server_set_last_sync_time (server, 1700000000);

  node = ps_server_to_json (server);
  copy = ps_server_new_from_json (node, &error);
  g_assert_no_error (error);
  g_assert_nonnull (copy);

  g_assert_cmpstr (ps_server_get_id (copy), ==, ps_server_get_id (server));
  g_assert_cmpstr (ps_server_get_description (copy), ==, "Field office");
  g_assert_cmpstr (ps_server_get_url (copy), ==, "https://example.org:6984");
  g_assert_cmpstr (ps_server_get_username (copy), ==, "admin");
  g_assert_true (ps_server_get_continuous (copy));
  g_assert_cmpint (ps_server_get_direction (copy), ==, PS_SYNC_DIRECTION_PULL);
  g_assert_cmpstr (ps_server_get_database_prefix (copy), ==, "p");
  g_assert_cmpstr (ps_server_get_database_suffix (copy), ==, "s");
  g_assert_cmpstrv (ps_server_get_databases (copy), databases);
  g_assert_cmpstrv (ps_server_get_record_types (copy), types);

  /* How the last sync went is run-time state, kept apart from the
   * settings (see the server store).
   */
  g_assert_false (json_object_has_member (json_node_get_object (node), "last-outcome"));
  g_assert_false (json_object_has_member (json_node_get_object (node), "last-sync-time"));
  g_assert_null (ps_server_get_last_outcome (copy));
  g_assert_cmpint (ps_server_get_last_sync_time (copy), ==, 0);
}

static void
test_json_invalid (void)
{
  const char *documents[] = {
    "[]",
    "{\"description\": \"A\", \"url\": \"https://a.org\"}",
    "{\"id\": 5, \"description\": \"A\", \"url\": \"https://a.org\"}",
    "{\"id\": \"x\", \"description\": \"A\", \"url\": \"https://a.org\", \"direction\": \"up\"}",
    "{\"id\": \"x\", \"description\": \"A\", \"url\": \"ftp://a.org\"}",
    "{\"id\": \"x\", \"url\": \"https://a.org\"}",
    "{\"id\": \"x\", \"description\": \"A\", \"url\": \"https://a.org\", \"databases\": [1]}",
    "{\"id\": \"x\", \"description\": \"A\", \"url\": \"https://a.org\", \"continuous\": \"y\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (documents); i++)
    {
      g_autoptr(JsonNode) node = json_from_string (documents[i], NULL);
      g_autoptr(PsServer) server = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", documents[i]);
      g_assert_nonnull (node);
      server = ps_server_new_from_json (node, &error);
      g_assert_null (server);
      g_assert_true (error != NULL && error->domain == PS_SERVER_ERROR);
    }
}

static void
on_items_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     gpointer    user_data)
{
  GString *log = user_data;

  g_string_append_printf (log, "%u-%u+%u;", position, removed, added);
}

static void
test_store_add_remove (void)
{
  g_autofree char *dir = store_directory ();
  g_autoptr(PsServerStore) store = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServer) first = new_valid_server ("Field office");
  g_autoptr(PsServer) second = new_valid_server ("Head office");
  g_autoptr(PsServer) same_name = new_valid_server ("  FIELD Office ");
  g_autoptr(PsServer) empty = new_valid_server ("   ");
  g_autoptr(PsServer) bad_url = ps_server_new ("Bad", "example.org:5984");
  g_autoptr(PsServer) local_name = new_valid_server ("This instance");
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PsServer) item = NULL;

  g_signal_connect (store, "items-changed", G_CALLBACK (on_items_changed_cb), log);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (store)) == PS_TYPE_SERVER);
  g_assert_false (ps_server_store_get_dirty (store));

  g_assert_true (ps_server_store_add (store, first, &error));
  g_assert_no_error (error);
  g_assert_true (ps_server_store_add (store, second, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log->str, ==, "0-0+1;1-0+1;");
  g_assert_true (ps_server_store_get_dirty (store));

  g_assert_false (ps_server_store_add (store, same_name, &error));
  g_assert_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_DUPLICATE);
  g_clear_error (&error);

  g_assert_false (ps_server_store_add (store, first, &error));
  g_assert_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_DUPLICATE);
  g_clear_error (&error);

  g_assert_false (ps_server_store_add (store, empty, &error));
  g_assert_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_EMPTY_DESCRIPTION);
  g_clear_error (&error);

  g_assert_false (ps_server_store_add (store, bad_url, &error));
  g_assert_error (error, PS_SERVER_ERROR, PS_SERVER_ERROR_INVALID_URL);
  g_clear_error (&error);

  g_assert_false (ps_server_store_add (store, local_name, &error));
  g_assert_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_DUPLICATE);
  g_clear_error (&error);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 2);
  item = g_list_model_get_item (G_LIST_MODEL (store), 1);
  g_assert_true (item == second);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (store), 2));

  g_assert_true (ps_server_store_lookup (store, ps_server_get_id (second)) == second);
  g_assert_true (ps_server_store_lookup (store, "head OFFICE") == second);
  g_assert_null (ps_server_store_lookup (store, "Nowhere"));
  g_assert_null (ps_server_store_find (store, "Nowhere", &error));
  g_assert_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (ps_server_store_check_description (store, "field office", first, &error));
  g_assert_false (ps_server_store_check_description (store, "field office", second, &error));
  g_assert_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_DUPLICATE);
  g_clear_error (&error);

  g_string_truncate (log, 0);
  g_assert_true (ps_server_store_remove (store, ps_server_get_id (first), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log->str, ==, "0-1+0;");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
  g_assert_null (ps_server_store_lookup (store, ps_server_get_id (first)));

  g_assert_false (ps_server_store_remove (store, ps_server_get_id (first), &error));
  g_assert_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_NOT_FOUND);

  /* A removed server no longer reports to the store. */
  g_string_truncate (log, 0);
  ps_server_set_description (first, "Renamed");
  g_assert_cmpstr (log->str, ==, "");
}

static void
test_store_items_changed_on_notify (void)
{
  g_autofree char *dir = store_directory ();
  g_autoptr(PsServerStore) store = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServer) first = new_valid_server ("Field office");
  g_autoptr(PsServer) second = new_valid_server ("Head office");
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (ps_server_store_add (store, first, NULL));
  g_assert_true (ps_server_store_add (store, second, NULL));
  g_assert_true (ps_server_store_save (store, &error));
  g_assert_no_error (error);
  g_assert_false (ps_server_store_get_dirty (store));

  g_signal_connect (store, "items-changed", G_CALLBACK (on_items_changed_cb), log);
  ps_server_set_continuous (second, TRUE);
  g_assert_cmpstr (log->str, ==, "1-1+1;");
  g_assert_true (ps_server_store_get_dirty (store));

  /* No change, no signal. */
  ps_server_set_continuous (second, TRUE);
  g_assert_cmpstr (log->str, ==, "1-1+1;");

  g_assert_true (ps_server_store_save (store, &error));
  ps_server_set_username (ps_server_store_get_local (store), "admin");
  g_assert_true (ps_server_store_get_dirty (store));
}

static gboolean
contains_ignoring_case (const char *haystack,
                        const char *needle)
{
  g_autofree char *lower = g_ascii_strdown (haystack, -1);

  return strstr (lower, needle) != NULL;
}

static void
test_store_save_load (void)
{
  g_autofree char *dir = store_directory ();
  g_autoptr(PsServerStore) store = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServerStore) loaded = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServer) first = new_valid_server ("Field office");
  g_autoptr(PsServer) second = ps_server_new ("Head office", "http://10.1.1.1:5984");
  g_autoptr(PsServer) copy = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) listing = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *expected_path = g_build_filename (dir, "servers.json", NULL);
  const char *name;
  PsServer *local;

  ps_server_set_username (first, "admin");
  ps_server_set_direction (second, PS_SYNC_DIRECTION_PUSH);
  ps_server_set_continuous (second, TRUE);
  ps_server_set_username (ps_server_store_get_local (store), "localadmin");
  ps_server_set_url (ps_server_store_get_local (store), "http://127.0.0.1:15984");

  g_assert_true (ps_server_store_add (store, first, NULL));
  g_assert_true (ps_server_store_add (store, second, NULL));
  g_assert_true (ps_server_store_save (store, &error));
  g_assert_no_error (error);

  g_assert_cmpstr (ps_server_store_get_path (store), ==, expected_path);
  g_assert_cmpuint (mode_of (dir), ==, 0700);
  g_assert_cmpuint (mode_of (expected_path), ==, 0600);

  g_assert_true (g_file_get_contents (expected_path, &contents, NULL, NULL));
  g_assert_false (contains_ignoring_case (contents, "password"));
  g_assert_false (contains_ignoring_case (contents, "secret"));

  /* Written through a temporary file that is gone afterwards. */
  listing = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (listing)) != NULL)
    g_assert_cmpstr (name, ==, "servers.json");

  g_assert_true (ps_server_store_load (loaded, &error));
  g_assert_no_error (error);
  g_assert_false (ps_server_store_get_dirty (loaded));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (loaded)), ==, 2);

  copy = g_list_model_get_item (G_LIST_MODEL (loaded), 1);
  g_assert_cmpstr (ps_server_get_id (copy), ==, ps_server_get_id (second));
  g_assert_cmpstr (ps_server_get_description (copy), ==, "Head office");
  g_assert_cmpstr (ps_server_get_url (copy), ==, "http://10.1.1.1:5984");
  g_assert_true (ps_server_get_is_insecure (copy));
  g_assert_true (ps_server_get_continuous (copy));
  g_assert_cmpint (ps_server_get_direction (copy), ==, PS_SYNC_DIRECTION_PUSH);
  g_assert_cmpstr (ps_server_get_username (ps_server_store_lookup (loaded, "Field office")),
                   ==, "admin");

  local = ps_server_store_get_local (loaded);
  g_assert_cmpstr (ps_server_get_id (local), ==,
                   ps_server_get_id (ps_server_store_get_local (store)));
  g_assert_cmpstr (ps_server_get_username (local), ==, "localadmin");
  g_assert_cmpstr (ps_server_get_url (local), ==, "http://127.0.0.1:15984");

  /* Saving over a file others could read leaves one only the user can. */
  g_assert_cmpint (g_chmod (expected_path, 0644), ==, 0);
  g_assert_true (ps_server_store_save (loaded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mode_of (expected_path), ==, 0600);
}

static void
test_store_default_and_missing (void)
{
  g_autoptr(PsServerStore) store = ps_server_store_new ();
  g_autofree char *expected = g_build_filename (g_get_user_config_dir (), "primero-sync",
                                                "servers.json", NULL);
  g_autoptr(GError) error = NULL;
  PsServer *local;

  g_assert_cmpstr (ps_server_store_get_path (store), ==, expected);
  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);

  local = ps_server_store_get_local (store);
  g_assert_nonnull (local);
  g_assert_cmpstr (ps_server_get_url (local), ==, "http://127.0.0.1:5984");
  g_assert_false (ps_server_get_is_insecure (local));
  g_assert_true (g_uuid_string_is_valid (ps_server_get_id (local)));
}

static void
test_store_load_invalid (void)
{
  g_autofree char *dir = store_directory ();
  g_autofree char *path = g_build_filename (dir, "servers.json", NULL);
  g_autoptr(PsServerStore) store = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServer) server = new_valid_server ("Field office");
  const char *documents[] = {
    "not json",
    "[1, 2]",
    "{\"servers\": {}}",
    "{\"servers\": [{\"id\": \"x\", \"description\": \"A\", \"url\": \"nope\"}]}",
  };

  g_assert_true (ps_server_store_add (store, server, NULL));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (documents); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (g_file_set_contents (path, documents[i], -1, NULL));
      g_assert_false (ps_server_store_load (store, &error));
      g_assert_error (error, PS_SERVER_STORE_ERROR, PS_SERVER_STORE_ERROR_INVALID_FILE);

      /* Nothing changed. */
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
    }
}

static char **
ids_on_disk (const char *dir)
{
  g_autoptr(PsServerStore) store = ps_server_store_new_for_directory (dir);
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (store)); i++)
    {
      g_autoptr(PsServer) server = g_list_model_get_item (G_LIST_MODEL (store), i);

      g_ptr_array_add (ids, g_strdup (ps_server_get_id (server)));
    }
  g_ptr_array_add (ids, NULL);

  return (char **) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
}

/* The window and the command line each hold a store of the same file:
 * what one saves, the other does not undo.
 */
static void
test_store_two_writers (void)
{
  g_autofree char *dir = store_directory ();
  g_autoptr(PsServerStore) gui = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServerStore) cli = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServerStore) check = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServer) field = new_valid_server ("Field office");
  g_autoptr(PsServer) head = new_valid_server ("Head office");
  g_autoptr(PsServer) camp = new_valid_server ("Camp office");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;

  g_assert_true (ps_server_store_add (gui, field, NULL));
  g_assert_true (ps_server_store_save (gui, &error));
  g_assert_no_error (error);
  g_assert_true (ps_server_store_load (cli, &error));
  g_assert_no_error (error);

  /* Each adds a server: both are kept. */
  g_assert_true (ps_server_store_add (gui, head, NULL));
  g_assert_true (ps_server_store_save (gui, &error));
  g_assert_no_error (error);
  g_assert_true (ps_server_store_add (cli, camp, NULL));
  g_assert_true (ps_server_store_save (cli, &error));
  g_assert_no_error (error);

  ids = ids_on_disk (dir);
  g_assert_cmpuint (g_strv_length (ids), ==, 3);
  g_assert_true (g_strv_contains ((const char * const *) ids, ps_server_get_id (field)));
  g_assert_true (g_strv_contains ((const char * const *) ids, ps_server_get_id (head)));
  g_assert_true (g_strv_contains ((const char * const *) ids, ps_server_get_id (camp)));
  g_clear_pointer (&ids, g_strfreev);
  /* The saving store now lists what the other added. */
  g_assert_nonnull (ps_server_store_lookup (cli, ps_server_get_id (head)));

  /* One removes a server, the other edits another one afterwards: the
   * removal stays, and so does the edit.
   */
  g_assert_true (ps_server_store_remove (cli, ps_server_get_id (field), NULL));
  g_assert_true (ps_server_store_save (cli, &error));
  g_assert_no_error (error);
  ps_server_set_username (head, "headadmin");
  g_assert_true (ps_server_store_save (gui, &error));
  g_assert_no_error (error);

  g_assert_true (ps_server_store_load (check, &error));
  g_assert_no_error (error);
  g_assert_null (ps_server_store_lookup (check, ps_server_get_id (field)));
  g_assert_cmpstr (ps_server_get_username (ps_server_store_lookup (check, ps_server_get_id (head))),
                   ==, "headadmin");
  g_assert_nonnull (ps_server_store_lookup (check, ps_server_get_id (camp)));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (check)), ==, 2);
  /* And the store that saved last no longer lists the removed server. */
  g_assert_null (ps_server_store_lookup (gui, ps_server_get_id (field)));

  /* An edit of a server the other one did not touch is not undone by the
   * other's next save.
   */
  ps_server_set_username (ps_server_store_lookup (cli, ps_server_get_id (camp)), "campadmin");
  g_assert_true (ps_server_store_save (cli, &error));
  g_assert_no_error (error);
  ps_server_set_continuous (head, TRUE);
  g_assert_true (ps_server_store_save (gui, &error));
  g_assert_no_error (error);

  g_assert_true (ps_server_store_load (check, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (ps_server_get_username (ps_server_store_lookup (check, ps_server_get_id (camp))),
                   ==, "campadmin");
  g_assert_true (ps_server_get_continuous (ps_server_store_lookup (check, ps_server_get_id (head))));
  g_assert_cmpstr (ps_server_get_username (ps_server_store_lookup (gui, ps_server_get_id (camp))),
                   ==, "campadmin");
}

/* How the last sync went is not configuration: saving it never rewrites
 * the server list, so it cannot undo another program's changes there.
 */
static void
test_store_state_apart (void)
{
  g_autofree char *dir = store_directory ();
  g_autofree char *path = g_build_filename (dir, "servers.json", NULL);
  g_autoptr(PsServerStore) gui = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServerStore) cli = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServerStore) check = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServer) field = new_valid_server ("Field office");
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  PsServer *copy;

  g_assert_true (ps_server_store_add (gui, field, NULL));
  g_assert_true (ps_server_store_save (gui, &error));
  g_assert_no_error (error);
  g_assert_true (ps_server_store_load (cli, &error));
  g_assert_no_error (error);

  /* The command line changes the user; the window then records a sync. */
  ps_server_set_username (ps_server_store_lookup (cli, ps_server_get_id (field)), "fieldadmin");
  g_assert_true (ps_server_store_save (cli, &error));
  g_assert_no_error (error);
  ps_server_set_last_outcome (field, "Up to date");
  ps_server_set_last_sync_time (field, 1700000000);
  g_assert_true (ps_server_store_save (gui, &error));
  g_assert_no_error (error);
  g_assert_false (ps_server_store_get_dirty (gui));

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_null (strstr (contents, "last-outcome"));
  g_assert_null (strstr (contents, "last-sync-time"));
  g_assert_null (strstr (contents, "Up to date"));

  g_assert_true (ps_server_store_load (check, &error));
  g_assert_no_error (error);
  copy = ps_server_store_lookup (check, ps_server_get_id (field));
  g_assert_cmpstr (ps_server_get_username (copy), ==, "fieldadmin");
  g_assert_cmpstr (ps_server_get_last_outcome (copy), ==, "Up to date");
  g_assert_cmpint (ps_server_get_last_sync_time (copy), ==, 1700000000);
}

/* A servers.json from before kept the last sync in each server: it is
 * read, and moves to the state file rather than being lost.
 */
static void
test_store_migrates_state (void)
{
  g_autofree char *dir = store_directory ();
  g_autofree char *path = g_build_filename (dir, "servers.json", NULL);
  g_autoptr(PsServerStore) store = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServerStore) check = ps_server_store_new_for_directory (dir);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  PsServer *server;
  const char *old =
    "{\"version\":1,\"servers\":[{\"id\":\"5e7c9d1a-0f4b-4c3e-9a2d-6b8f1e0c7a42\","
    "\"description\":\"Field office\",\"url\":\"https://example.org:6984\","
    "\"username\":\"admin\",\"last-outcome\":\"3 records pulled\","
    "\"last-sync-time\":1700000000}]}";

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, old, -1, NULL));

  g_assert_true (ps_server_store_load (store, &error));
  g_assert_no_error (error);
  server = ps_server_store_lookup (store, "Field office");
  g_assert_cmpstr (ps_server_get_last_outcome (server), ==, "3 records pulled");
  g_assert_cmpint (ps_server_get_last_sync_time (server), ==, 1700000000);

  ps_server_set_username (server, "fieldadmin");
  g_assert_true (ps_server_store_save (store, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_null (strstr (contents, "last-outcome"));

  g_assert_true (ps_server_store_load (check, &error));
  g_assert_no_error (error);
  server = ps_server_store_lookup (check, "Field office");
  g_assert_cmpstr (ps_server_get_username (server), ==, "fieldadmin");
  g_assert_cmpstr (ps_server_get_last_outcome (server), ==, "3 records pulled");
  g_assert_cmpint (ps_server_get_last_sync_time (server), ==, 1700000000);
}

static gboolean
on_wait_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* The window shows what the command line saved while it runs, and keeps
 * its own changes not saved yet.
 */
static void
test_store_follows_file (void)
{
  g_autofree char *dir = store_directory ();
  g_autoptr(PsServerStore) gui = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServerStore) cli = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServer) field = new_valid_server ("Field office");
  g_autoptr(PsServer) head = new_valid_server ("Head office");
  g_autoptr(PsServer) camp = new_valid_server ("Camp office");
  g_autoptr(GError) error = NULL;
  gboolean timed_out = FALSE;
  guint timeout_id;

  g_assert_true (ps_server_store_add (gui, field, NULL));
  g_assert_true (ps_server_store_add (gui, head, NULL));
  g_assert_true (ps_server_store_save (gui, &error));
  g_assert_no_error (error);
  g_assert_true (ps_server_store_load (cli, &error));
  g_assert_no_error (error);
  ps_server_store_watch (gui);

  ps_server_set_username (head, "edited-here");
  ps_server_store_remove (cli, ps_server_get_id (field), NULL);
  g_assert_true (ps_server_store_add (cli, camp, NULL));
  g_assert_true (ps_server_store_save (cli, &error));
  g_assert_no_error (error);

  timeout_id = g_timeout_add_seconds (10, on_wait_timeout_cb, &timed_out);
  while (ps_server_store_lookup (gui, ps_server_get_id (camp)) == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (timeout_id);

  /* The removal is taken in; the change not saved yet stays, to save. */
  g_assert_null (ps_server_store_lookup (gui, ps_server_get_id (field)));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (gui)), ==, 2);
  g_assert_cmpstr (ps_server_get_username (head), ==, "edited-here");
  g_assert_true (ps_server_store_get_dirty (gui));
  g_assert_true (ps_server_store_save (gui, &error));
  g_assert_no_error (error);
  g_assert_true (ps_server_store_load (cli, &error));
  g_assert_cmpstr (ps_server_get_username (ps_server_store_lookup (cli, ps_server_get_id (head))),
                   ==, "edited-here");
}

/* A server list deleted from under the program is written again whole
 * at its next save, not emptied.
 */
static void
test_store_file_deleted (void)
{
  g_autofree char *dir = store_directory ();
  g_autofree char *path = g_build_filename (dir, "servers.json", NULL);
  g_autoptr(PsServerStore) store = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServerStore) check = ps_server_store_new_for_directory (dir);
  g_autoptr(PsServer) field = new_valid_server ("Field office");
  g_autoptr(PsServer) head = new_valid_server ("Head office");
  g_autoptr(GError) error = NULL;

  g_assert_true (ps_server_store_add (store, field, NULL));
  g_assert_true (ps_server_store_add (store, head, NULL));
  g_assert_true (ps_server_store_save (store, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_unlink (path), ==, 0);
  ps_server_set_last_outcome (field, "Up to date");
  g_assert_true (ps_server_store_save (store, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 2);
  g_assert_true (ps_server_store_load (check, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (check)), ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/server/normalize-url", test_normalize_url);
  g_test_add_func ("/ps/server/defaults", test_defaults);
  g_test_add_func ("/ps/server/database-names", test_database_names);
  g_test_add_func ("/ps/server/direction", test_direction);
  g_test_add_func ("/ps/server/notify", test_notify);
  g_test_add_func ("/ps/server/fingerprint", test_fingerprint);
  g_test_add_func ("/ps/server/json-round-trip", test_json_round_trip);
  g_test_add_func ("/ps/server/json-invalid", test_json_invalid);
  g_test_add_func ("/ps/server-store/add-remove", test_store_add_remove);
  g_test_add_func ("/ps/server-store/items-changed-on-notify",
                   test_store_items_changed_on_notify);
  g_test_add_func ("/ps/server-store/save-load", test_store_save_load);
  g_test_add_func ("/ps/server-store/default-and-missing", test_store_default_and_missing);
  g_test_add_func ("/ps/server-store/load-invalid", test_store_load_invalid);
  g_test_add_func ("/ps/server-store/two-writers", test_store_two_writers);
  g_test_add_func ("/ps/server-store/state-apart", test_store_state_apart);
  g_test_add_func ("/ps/server-store/migrates-state", test_store_migrates_state);
  g_test_add_func ("/ps/server-store/follows-file", test_store_follows_file);
  g_test_add_func ("/ps/server-store/file-deleted", test_store_file_deleted);

  return g_test_run ();
}

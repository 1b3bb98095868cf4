/* test-sync-policy.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The decisions a sync takes, on their own: when to retry, when to give
 * up, when a metered connection pauses a sync or needs the user's leave,
 * when a continuous sync is stalled.
 */

#define G_LOG_DOMAIN "test-sync-policy"

#include "config.h"

#include "ps-sync-policy.h"

/* 1 s, doubling, never over 5 min, and back to 1 s after a success. */
static void
test_backoff (void)
{
  guint delay = 0;
  guint expected[] = { 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000 };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      delay = ps_sync_policy_next_backoff_ms (delay);
      g_assert_cmpuint (delay, ==, expected[i]);
    }
  g_assert_cmpuint (ps_sync_policy_next_backoff_ms (0), ==, 1000);
  g_assert_cmpuint (ps_sync_policy_next_backoff_ms (G_MAXUINT), ==, 300000);
}

/* Offices that failed together spread their retries, within ±20 %. */
static void
test_jitter (void)
{
  g_assert_cmpuint (ps_sync_policy_jittered_ms (1000, 1.0), ==, 1000);
  g_assert_cmpuint (ps_sync_policy_jittered_ms (1000, 0.8), ==, 800);
  g_assert_cmpuint (ps_sync_policy_jittered_ms (1000, 1.2), ==, 1200);
  g_assert_cmpuint (ps_sync_policy_jittered_ms (1000, 0.1), ==, 800);
  g_assert_cmpuint (ps_sync_policy_jittered_ms (1000, 9.0), ==, 1200);
  g_assert_cmpuint (ps_sync_policy_jittered_ms (300000, 1.2), ==, 360000);
}

/* A refused password stops at once; a one-shot sync someone waits for
 * gives up after three tries; a continuous one never does.
 */
static void
test_gives_up (void)
{
  g_assert_true (ps_sync_policy_gives_up (FALSE, FALSE, 1));
  g_assert_true (ps_sync_policy_gives_up (FALSE, TRUE, 1));
  g_assert_false (ps_sync_policy_gives_up (TRUE, TRUE, 1));
  g_assert_false (ps_sync_policy_gives_up (TRUE, TRUE, 2));
  g_assert_true (ps_sync_policy_gives_up (TRUE, TRUE, 3));
  g_assert_false (ps_sync_policy_gives_up (TRUE, FALSE, 1000));
}

/* On a metered connection a continuous sync pauses unless the server may
 * use one; a one-shot sync does not pause but needs the user's leave.
 */
static void
test_metered (void)
{
  /* one_shot, allow_metered, metered */
  g_assert_true (ps_sync_policy_metered_blocks (FALSE, FALSE, TRUE));
  g_assert_false (ps_sync_policy_metered_blocks (FALSE, TRUE, TRUE));
  g_assert_false (ps_sync_policy_metered_blocks (FALSE, FALSE, FALSE));
  g_assert_false (ps_sync_policy_metered_blocks (TRUE, FALSE, TRUE));

  g_assert_true (ps_sync_policy_needs_consent (TRUE, FALSE, TRUE));
  g_assert_false (ps_sync_policy_needs_consent (TRUE, TRUE, TRUE));
  g_assert_false (ps_sync_policy_needs_consent (TRUE, FALSE, FALSE));
  g_assert_false (ps_sync_policy_needs_consent (FALSE, FALSE, TRUE));

  /* Never both: a sync either pauses by itself or asks, not both. */
  for (guint bits = 0; bits < 8; bits++)
    g_assert_false (ps_sync_policy_metered_blocks (bits & 1, bits & 2, bits & 4) &&
                    ps_sync_policy_needs_consent (bits & 1, bits & 2, bits & 4));
}

static void
test_stalled (void)
{
  gint64 start = (gint64) 1000 * G_USEC_PER_SEC;

  g_assert_false (ps_sync_policy_is_stalled (start, start, 120));
  g_assert_false (ps_sync_policy_is_stalled (start + (gint64) 119 * G_USEC_PER_SEC, start, 120));
  g_assert_true (ps_sync_policy_is_stalled (start + (gint64) 120 * G_USEC_PER_SEC, start, 120));
  g_assert_true (ps_sync_policy_is_stalled (start + (gint64) 3600 * G_USEC_PER_SEC, start, 120));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/ps/sync-policy/backoff", test_backoff);
  g_test_add_func ("/ps/sync-policy/jitter", test_jitter);
  g_test_add_func ("/ps/sync-policy/gives-up", test_gives_up);
  g_test_add_func ("/ps/sync-policy/metered", test_metered);
  g_test_add_func ("/ps/sync-policy/stalled", test_stalled);

  return g_test_run ();
}

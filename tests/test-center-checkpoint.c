/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-center-checkpoint.c: when the center's SQLite store copies its WAL
 * into the database (center-store-sqlite.c, checkpointer_main()), on a
 * real store file written through the store's own transactions, seen in
 * the WAL index beside it (the -shm file's header: mxFrame, the frames of
 * the WAL, and nBackfill, those copied into the database; SQLite's
 * "WAL-mode File Format", sections 2.1-2.2):
 *
 *   /center/checkpoint/idle: a commit is copied once no other came for the
 *     store's idle time (set to 100 ms); with it set to 1.5 s, commits 20
 *     ms apart for 3 s leave every frame they wrote in the WAL (a
 *     checkpointer that counted from the first commit would have copied
 *     half of them), and once they stop the WAL is copied within 15 s,
 *     not sooner than the idle time after the last commit (checked as
 *     1.4 s after it returned: SQLite calls the WAL hook just before).
 *   /center/checkpoint/busy: with an idle time of an hour, commits that keep
 *     coming past the busy mark (48 pages of WAL) are copied and the WAL
 *     is started over while they still come (SQLite starts a WAL over
 *     only once all of it is copied).
 */
#include "test-center-util.h"

#include "center-store-sqlite.h"
#include "center-store.h"
#include "sign.h"


#define COUNTY "150422"

/* A store on @c's file with one device, whose id is returned in @device. */
static HearthCenterStore *
open_store (Center *c, char **device)
{
  g_autoptr(HearthCenterStore) store = NULL;
  g_autoptr(HearthCenterTxn) txn = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthSecret) key = NULL;

  center_add_user (c, "w.ckpt", "worker", COUNTY);
  store = hearth_center_store_sqlite_open (c->db_path, FALSE, &error);
  g_assert_no_error (error);
  txn = hearth_center_store_begin (store, TRUE, &error);
  g_assert_no_error (error);
  key = center_txn_add_device (txn, "w.ckpt", "checkpoint", device);
  g_assert_true (hearth_center_txn_commit (g_steal_pointer (&txn), &error));
  g_assert_no_error (error);
  return g_steal_pointer (&store);
}

/* One write transaction of the store, committed: a nonce of @device. */
static void
commit_one (HearthCenterStore *store, const char *device)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HearthCenterTxn) txn = hearth_center_store_begin (store, TRUE, &error);
  g_autofree char *nonce = hearth_sign_nonce ();

  g_assert_no_error (error);
  g_assert_true (hearth_center_txn_add_nonce (txn, device, nonce, g_get_real_time () / 1000, 600000, &error));
  g_assert_no_error (error);
  g_assert_true (hearth_center_txn_commit (g_steal_pointer (&txn), &error));
  g_assert_no_error (error);
}

/* Waits (up to @limit_ms) until the WAL is copied whole; returns when
 * (monotonic µs), or 0. */
static gint64
wait_copied (Center *c, guint limit_ms)
{
  gint64 end = g_get_monotonic_time () + limit_ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    {
      CenterWalIndex w = center_wal_index (c);

      if (w.frames > 0 && w.copied == w.frames)
        return g_get_monotonic_time ();
      g_usleep (10 * G_TIME_SPAN_MILLISECOND);
    }
  return 0;
}

static void
test_idle (void)
{
  g_autoptr(Center) c = center_init ("checkpoint-idle", COUNTY);
  g_autofree char *device = NULL;
  g_autoptr(HearthCenterStore) store = open_store (c, &device);
  gint64 last = 0, max_gap = 0, copied_at;
  guint commits = 0;
  CenterWalIndex w;

  /* A commit alone is copied once the idle time passed. */
  hearth_center_store_sqlite_set_checkpoint (store, 100, G_GINT64_CONSTANT (1) << 30);
  commit_one (store, device);
  g_assert_cmpint (wait_copied (c, 15000), >, 0);

  /* Commits 20 ms apart for twice the idle time. */
  hearth_center_store_sqlite_set_checkpoint (store, 1500, G_GINT64_CONSTANT (1) << 30);
  for (gint64 end = g_get_monotonic_time () + 3 * G_TIME_SPAN_SECOND; g_get_monotonic_time () < end; commits++)
    {
      commit_one (store, device);
      if (last != 0)
        max_gap = MAX (max_gap, g_get_monotonic_time () - last);
      last = g_get_monotonic_time ();
      g_usleep (20 * G_TIME_SPAN_MILLISECOND);
    }
  w = center_wal_index (c);
  g_test_message ("%u commits, at most %" G_GINT64_FORMAT " ms apart; the WAL: %u frames, %u copied", commits,
                  max_gap / 1000, w.frames, w.copied);
  g_assert_cmpuint (commits, >=, 10);
  /* Each commit wrote a frame at least; none copied while they came. */
  if (max_gap < 1500 * G_TIME_SPAN_MILLISECOND)
    g_assert_cmpuint (w.frames - w.copied, >=, commits);
  else
    g_test_message ("two commits came more than the idle time apart (a loaded machine): "
                    "their not being copied is not checked");

  /* Then copied: not before the idle time after the last commit. */
  copied_at = wait_copied (c, 15000);
  g_assert_cmpint (copied_at, >, 0);
  g_test_message ("copied %" G_GINT64_FORMAT " ms after the last commit", (copied_at - last) / 1000);
  g_assert_cmpint (copied_at - last, >=, 1400 * G_TIME_SPAN_MILLISECOND);
}

static void
test_busy (void)
{
  g_autoptr(Center) c = center_init ("checkpoint-busy", COUNTY);
  g_autofree char *device = NULL;
  g_autoptr(HearthCenterStore) store = open_store (c, &device);
  gint64 end = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  guint32 most = 0, copied = 0;
  guint commits = 0;
  gboolean restarted = FALSE;
  gint64 page;

  page = center_db_int (c, "PRAGMA page_size");
  g_assert_cmpint (page, >=, 4096);
  hearth_center_store_sqlite_set_checkpoint (store, 3600 * 1000, 48 * page);
  /* Back to back: never an hour apart. */
  while (!restarted && g_get_monotonic_time () < end)
    {
      CenterWalIndex w;

      commit_one (store, device);
      commits++;
      w = center_wal_index (c);
      copied = MAX (copied, w.copied);
      restarted = most >= 48 && w.frames < most;
      most = MAX (most, w.frames);
    }
  g_test_message ("%u commits; the WAL reached %u frames, %u copied at most", commits, most, copied);
  /* SQLite starts a WAL over only once it is all copied. */
  g_assert_true (restarted);
}

int
main (int argc, char **argv)
{
  test_init (&argc, &argv);
  g_test_add_func ("/center/checkpoint/idle", test_idle);
  g_test_add_func ("/center/checkpoint/busy", test_busy);
  return g_test_run ();
}

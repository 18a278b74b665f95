/* SPDX-License-Identifier: GPL-3.0-or-later */
/* center-store-sqlite.c: the center store on SQLite (center-store-sqlite.h). */
#define G_LOG_DOMAIN "hearth-center"

#include "center-store-sqlite.h"
#include "center-store-private.h"
#include "hearth-center-resources.h"
#include "merge.h"
#include "record-id.h"
#include "schema-migrate.h"
#include "store-vfs.h"
#include "str-hash.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#define MIGRATIONS_PATH "/org/hearth/center/migrations"
/* How long a writer waits for another one before the request fails
 * (a push is short; this is far beyond any). */
#define BUSY_TIMEOUT_MS 30000
/* How much of the database file is read through a memory map (SQLite's
 * own ceiling, SQLITE_MAX_MMAP_SIZE, may be lower). */
#define MMAP_BYTES 4294967296
/* Each connection's page cache (KiB): a group commit of a few thousand
 * changes dirties more than SQLite's default 2 MiB, which then spills
 * pages into the WAL before the commit. */
#define CACHE_KIB 32768
/* The page size of a store made from now on (bytes; SQLite's default is
 * 4096, and a store made before keeps its own: SQLite sets it when it
 * makes the file). A change's row is appended after the last row, and
 * when it does not fit in the last page SQLite starts a new one, leaving
 * the rest of the last empty: with 4 KiB pages a visit's submission (some
 * 2.6 KiB) often found no room, and a third of the pages of changes,
 * written to the WAL and copied by the checkpoint, was empty space (41.8
 * of 126 MB in the bench's ingest store; 18.1 of 103 MB with 8 KiB). The
 * indexes' pages, changed a few entries at a time, cost more bytes the
 * larger they are: in the bench's ingest 8 KiB wrote 13.6 KiB a visit,
 * 4 KiB 17.0 and 16 KiB 19.0. */
#define PAGE_BYTES HEARTH_CENTER_STORE_SQLITE_PAGE_BYTES
/* How long (ms) no commit must have come before the checkpointer copies
 * the WAL into the database. Sync traffic comes in bursts (workers reach
 * a network in the morning and the evening, a hundred tablets at once):
 * a checkpoint during one competes with the writer for the disk and the
 * processors and made the bench's later ingests of 10,000 visits a
 * quarter slower (p99 356-382 ms against 226-274 ms with none, session
 * 29's experiment); copied in the gap after it, the burst pays nothing
 * and the next one starts on an empty WAL. */
#define CHECKPOINT_IDLE_MS 200
/* The WAL's size (bytes) past which the checkpointer copies and starts
 * it over even while commits keep coming (a center never idle that
 * long): the WAL's disk space and what opening the store after a crash
 * reads (docs/operations.md). Past it, it copies again each sixteenth of
 * it committed since its last pass (a reader of an older snapshot may
 * hold the WAL's start over back), not after every commit. */
#define WAL_BUSY_BYTES 1073741824
/* How long the checkpointer, between two writers, waits for the readers of
 * older snapshots to have the WAL start over; a longer one (a pull page)
 * defers that to its next turn rather than hold the writers up. */
#define RESTART_WAIT_MS 20
/* The size (bytes) a WAL that starts over is cut back to
 * (journal_size_limit): the next burst writes over blocks the file
 * has rather than extend it (block allocation and zeroed pages in the
 * kernel at every commit), and the disk is not held for good. */
#define WAL_LIMIT_BYTES 134217728
/* How often the nonces older than they are kept are deleted: a push's
 * add_nonce() ran that DELETE every time (some 84,000 instructions a push
 * in the writer, a twelfth of its fixed cost), though a nonce kept a
 * little longer changes nothing: nonce_seen() counts only those since its
 * @since, and a device's nonces are random (16 bytes), never sent again
 * but by a replay, which is refused either way. */
#define NONCE_SWEEP_MS (60 * 1000)
/* The row of record_state of record (@t, @id), SQL expressions: found
 * by its identity's key (0017-record-identity-key.sql), its identity
 * compared. */
#define RECORD_STATE_IS(t, id) "idkey = hearth_record_key (" t ", " id ") AND tbl = " t " AND record_id = " id
/* The key of an edit of field @f of record (@t, @id), SQL expressions
 * (0015-record-number.sql): the record's number (record_state.rkey)
 * above the 16 bits of hearth_field_key (@f); NULL for a record the
 * center holds no edit of (no number). A record's edits lie in
 * [RECORD_KEY (t, id, NULL), that + 65535], and a new record's at the
 * end of changes_by_key. */
#define RECORD_KEY(t, id, f) \
  "((SELECT rkey FROM record_state WHERE " RECORD_STATE_IS (t, id) ") * 65536 + hearth_field_key (" f "))"
/* The rows of changes under the key of (?1, ?2, ?3) = (tbl, record_id,
 * field): the statements that find edits by their field or identity
 * (0011-change-key.sql) go on with "kind = 'edit' AND tbl = ?1 ..." (and
 * with the version's key, "vkey = hearth_version_key (?4)", for one
 * edit). */
#define KEY_WHERE "INDEXED BY changes_by_key WHERE ikey = " RECORD_KEY ("?1", "?2", "?3") " AND "
/* The row of changes of the immutable record (@t, @id), SQL: under its
 * identity's key, in vkey (0017-record-identity-key.sql). */
#define RECORD_ROW_IS(t, id) \
  "kind = 'record' AND vkey = hearth_record_key (" t ", " id ") AND tbl = " t " AND record_id = " id
/* The same with the key bound as ?3 (record_key ()). */
#define BOUND_RECORD_ROW_IS \
  "kind = 'record' AND vkey = ?3 AND tbl = ?1 AND record_id = ?2"
#define CHANGE_COLUMNS "cursor, kind, tbl, record_id, field, hlc, parents, household, village, value, fields, wall"
/* A change made (OWN) or not made (NOT_OWN) by the device whose id is
 * ?4 (NULL: by none): changes names a device by its number
 * (0022-device-number.sql), looked up once a statement. */
#define OWN "device = (SELECT num FROM device_numbers WHERE id = ?4)"
#define NOT_OWN "device IS NOT (SELECT num FROM device_numbers WHERE id = ?4)"
#define DEVICE_COLUMNS \
  "id, user, public_key, name, enrolled_at, revoked_at, last_seen_at, acked_seq, clamp_floor, audit_seq, " \
  "audit_hash, audit_broken"

/* One connection and its prepared statements, keyed by their SQL text. */
typedef struct {
  sqlite3 *db;
  GHashTable *stmts;
  /* The pull walk's statements between pages (pull_walk_prepare()), whose
   * SQL is made for each pull: SQL text → (element-type sqlite3_stmt) the
   * idle statements of that text, reset and unbound. */
  GHashTable *walk_stmts;
  gboolean relaxed;  /* synchronous=NORMAL: its commits are synced by wait_durable() */
  /* The text of the record states a statement writes (states_insert(),
   * states_write()), written over by each: a string made and freed for
   * each record cost the writer two allocations a record. */
  GString *json;
} Conn;

typedef struct {
  HearthCenterTxn parent;
  Conn *conn;
  gboolean write;   /* holds the store's writer lock */
  guint64 seen;     /* a pipelined writer: the commits its snapshot may hold (wait_durable()) */
  /* The merged state of the records read or set since the savepoint or
   * transaction began (RecordState *, keyed "tbl\nrecord_id";
   * record_state_get()): a push's edits of a record read its row once
   * and write it once, when the savepoint or transaction ends or a
   * statement reads the table (states_flush()). */
  GHashTable *states;
  /* The state record_state_get() returned last (in states), or NULL: a
   * push asks for a record's state a few times a field, one field after
   * another. Forgotten whenever states is emptied. */
  struct _RecordState *last_state;
  /* The number the next record given one gets (record_number()), 0 until
   * the transaction first gives one: max (rkey) + 1 then. A record
   * numbered has its row written with its state (states_flush()), not
   * a row of '{}' at once and its state over it when the push ends. */
  gint64 next_rkey;
  /* The immutable record the last sqlite_find_record() did not find
   * (record_absent FALSE: none, or a name longer than these hold): its
   * table and id copied here rather than joined in a string made and
   * freed for each record (some 400 instructions a record). */
  gboolean record_absent;
  char absent_table[24], absent_id[64];
  gint64 record_absent_key;   /* its identity's key (hearth_record_key ()) */
  /* "tbl\nrecord_id\nfield\nhlc" of the heads the transaction found
   * stored (sqlite_list_heads()) since the last savepoint began or
   * ended: a parent among them is no dangling version, and
   * add_dangling() skips its statement (a push lists a field's heads
   * before it stores an edit of it, and an edit's parent is most often
   * its field's head). Forgotten at every savepoint, so that one undone
   * takes nothing of its own along. */
  GHashTable *held;
  /* held_key() of the edit the last sqlite_find_edit() did not find,
   * or NULL; forgotten when an edit is stored or at a savepoint. */
  char *edit_absent;
  /* The changes the transaction stored (0020-change-receipts.sql): their
   * cursors' range and receipt times' (receipt_last 0: none), written as
   * one row of change_receipts when it commits (receipt_flush()). Its
   * last cursor is brought down to the log's last when a savepoint is
   * undone (receipt_undone()): the cursors undone are given again, and a
   * receipt above the log's end would hide the rows written there by
   * hand from an export (range_cursors() reads above the last receipt).
   * The rest is not narrowed: a wider range only makes an export read a
   * few more rows. */
  gint64 receipt_first, receipt_last, receipt_from, receipt_until;
  /* Whether the store's key filters hold every key of the transaction's
   * snapshot (writer_filters()): 0 not asked yet, 1 yes, -1 no. */
  int filters;
  /* The record of the change the writer checks (sqlite_note_prepared()):
   * its table, id and identity's key, computed on the request's thread
   * (txn_record_key()), copied into the transaction (a copy made and
   * freed for each change cost the writer some 300 instructions a
   * change); not known: none, or a name longer than these hold. */
  gboolean known;
  char known_table[24], known_id[64];
  gint64 known_key;
  /* The device whose changes the transaction stored last and its number
   * in device_numbers (0022-device-number.sql; device_number()), or NULL:
   * a group's pushes each store their device's changes one after
   * another. Forgotten when a savepoint is undone (it may have given the
   * number). */
  char *numbered_id;
  gint64 numbered;
} SqliteTxn;

static void append_json_string (GString *out, const char *text);

/* g_string_append_len() for the writer's JSON, inline when the string
 * has room (GLib 2.74's is a call to g_string_insert_len() each time,
 * some 60 instructions for a few bytes). */
static inline void
append_bytes (GString *out, const char *bytes, gsize len)
{
  if (out->len + len < out->allocated_len)
    {
      memcpy (out->str + out->len, bytes, len);
      out->len += len;
      out->str[out->len] = '\0';
    }
  else
    g_string_append_len (out, bytes, (gssize) len);
}
static gsize format_int64 (char *buf, gint64 v);
static void sqlite_rollback (HearthCenterTxn *txn);
static gboolean states_flush (SqliteTxn *t, GError **error);
static gboolean states_write (SqliteTxn *t, gboolean forget, GError **error);
static gboolean receipt_flush (SqliteTxn *t, GError **error);
static gint64 record_number (SqliteTxn *t, const char *tbl, const char *id, GError **error);
static gboolean state_number (SqliteTxn *t, const char *tbl, const char *id, gint64 *rkey, GError **error);
static char *held_key (const char *table, const char *id, const char *field, const char *hlc);
static void held_add (SqliteTxn *t, const char *table, const char *id, const char *field, const char *hlc);
typedef struct _KeyFilter KeyFilter;
static void key_filter_free (KeyFilter *f);
static gboolean writer_filters (SqliteTxn *t);
static gboolean key_filter_may_hold (const KeyFilter *f, guint64 key);
static void key_filter_add (KeyFilter *f, guint64 key);
static void writer_inserted (SqliteTxn *t, gboolean state, guint64 key);
typedef struct _FilterBuild FilterBuild;
static void filter_build_free (FilterBuild *b);
static gboolean state_surely_absent (SqliteTxn *t, gint64 key);

struct _HearthCenterStoreSqlite {
  GObject parent_instance;
  char *path;
  GMutex lock;
  GPtrArray *idle;  /* Conn *, connections not in a transaction */
  /* Writers of this process queue here rather than in SQLite's busy
   * handler, which sleeps (up to 100 ms at a time) and lets a request
   * wait seconds when a hundred devices push at once. Recursive: a
   * nested writer gets SQLite's busy timeout as before, not a deadlock. */
  GRecMutex write_lock;
  /* The writers' own connection (under write_lock; NULL until the first
   * write, or after one was left in a transaction): a connection's page
   * cache outlives its transactions only while no other connection
   * commits (SQLite drops it when the WAL changed since), so the
   * writers keep one warm between group commits rather than taking
   * whichever one a reader returned last, cold, and reading every page
   * again. writer_busy: a nested writer (the same thread, write_lock
   * being recursive) takes one of the pool. */
  Conn *writer;
  gboolean writer_busy;
  /* When add_nonce() last deleted the nonces past keeping (ms since
   * 1970, its @now; under write_lock): NONCE_SWEEP_MS apart. */
  gint64 nonces_swept_at;
  /* The WAL is checkpointed by a thread of its own, off the writers' way
   * (conn_open()'s WAL hook replaces SQLite's automatic checkpoint, which
   * ran inside the commit of whichever request crossed the line): once no
   * commit came for idle_ms, or while they keep coming once the WAL holds
   * busy_pages frames (checkpointer_main()). */
  GThread *checkpointer;
  GMutex checkpoint_lock;
  GCond checkpoint_cond;
  gboolean checkpoint_busy;  /* under checkpoint_lock: the WAL passed busy_pages */
  gboolean checkpoint_stop;
  gint wal_frames;  /* (atomic) the WAL's frames after the last commit */
  gint uncopied;    /* (atomic) the frames committed since the checkpointer last ran */
  gint idle_ms;     /* (atomic) CHECKPOINT_IDLE_MS unless set */
  gint busy_pages;  /* (atomic) WAL_BUSY_BYTES in the store's pages unless set */
  gint64 page_bytes;     /* the store's page size (set before the checkpointer starts) */
  /* The pipelined commit (hearth_center_store_pipeline(), PROTOCOL.md
   * section 1): a writer commits with synchronous=NORMAL (its frames in
   * the WAL, visible, not synced) and lets the next writer go before the
   * WAL is synced; wait_durable() syncs it (one fdatasync at a time,
   * covering every commit done before it began), and nothing is answered
   * nor read before what it rests on is synced. Under sync_lock: */
  GMutex sync_lock;
  GCond sync_cond;
  gboolean pipelined;
  guint64 commits_begun;  /* COMMITs begun (the next one's frames may be visible) */
  guint64 commits_done;   /* COMMITs ended: their frames are all written */
  guint64 durable;        /* the commits known to be synced */
  gboolean syncing;       /* a thread is in wal_sync() for the others */
  GError *sync_error;     /* a failed sync: nothing is durable any more (sticky) */
  /* The record states (GHashTable *, SqliteTxn.states) of the commits
   * that returned a ticket, written and no longer read: freed by the next
   * wait_durable(), which the thread of a group's first push calls once
   * the writer went on to the next group (center-sync.c), instead of in the serial writer (some
   * 1,600 instructions a change of the bench's ingest). */
  GPtrArray *spent_states;
  /* The WAL, opened by wal_sync() (under wal_lock) to fdatasync it. */
  GMutex wal_lock;
  int wal_fd;
  GPtrArray *pull_named;  /* PullNamed *, newest last; under lock */
  gboolean pull_by_village;  /* (atomic) whether a pull walks a scope of few villages by village (PullWalk) */
  /* Under write_lock: the keys the store may hold (KeyFilter, NULL until
   * a writer first asks): record_state.idkey of each row, and the
   * identity key (vkey) of each immutable record of changes, read once
   * and added to as the writer inserts rows, so that the writer skips
   * its look-up of a record that is new to the center (every record of
   * a visit: a look-up that found nothing each). Valid while the
   * writer's connection's PRAGMA data_version is filter_version (no
   * other connection committed since; writer_filters()). */
  struct _KeyFilter *state_keys;
  struct _KeyFilter *record_keys;
  gint64 filter_version;
  /* The filters read anew off the writer's turn (writer_filters()): the
   * thread reading them (NULL: none) and what it reads, for the
   * writer's data_version filter_build->version; the keys the writers'
   * connection inserted since it began (pending_state, pending_record:
   * NULL when no reading is under way), which its snapshot may lack;
   * and the writers' connection's generation (writer_gen: a new
   * connection's data_version is another count). Under write_lock but
   * filter_build->done, which the thread sets. */
  GThread *filter_thread;
  FilterBuild *filter_build;
  GArray *pending_state;
  GArray *pending_record;
  guint writer_gen;
  /* Tests' hold of a reading once its snapshot began
   * (hearth_center_store_filters_hold_private()), under filter_hold_lock. */
  GMutex filter_hold_lock;
  GCond filter_hold_cond;
  gboolean filter_hold;
  gboolean filter_held;
};

static void hearth_center_store_sqlite_iface_init (HearthCenterStoreInterface *iface);
typedef struct _PullNamed PullNamed;
static void pull_named_free (PullNamed *entry);

G_DEFINE_TYPE_WITH_CODE (HearthCenterStoreSqlite, hearth_center_store_sqlite, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (HEARTH_TYPE_CENTER_STORE, hearth_center_store_sqlite_iface_init))

/* ---- connections ------------------------------------------------------------ */

static void
finalize_stmt (gpointer st)
{
  sqlite3_finalize (st);
}

static void
finalize_stmts (gpointer stmts)
{
  g_ptr_array_free (stmts, TRUE);   /* its free function finalises them */
}

static void
conn_free (Conn *conn)
{
  if (conn == NULL)
    return;
  g_hash_table_unref (conn->stmts);  /* finalises the statements */
  g_hash_table_unref (conn->walk_stmts);
  if (conn->json != NULL)
    g_string_free (conn->json, TRUE);
  sqlite3_close (conn->db);
  g_free (conn);
}

/* A taken identity is _EXISTS; any other failure (a CHECK too: that is a
 * bug, not an input) is _FAILED. */
static gboolean
db_failed (sqlite3 *db, int rc, const char *what, GError **error)
{
  gboolean exists = rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;

  g_set_error (error, HEARTH_CENTER_STORE_ERROR,
               exists ? HEARTH_CENTER_STORE_ERROR_EXISTS : HEARTH_CENTER_STORE_ERROR_FAILED,
               _("the center's database: %s: %s"), what, db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
  return FALSE;
}

static int
on_wal_commit (void *data, sqlite3 *db, const char *name, int pages)
{
  HearthCenterStoreSqlite *self = data;
  /* Called in the commit, under SQLite's write lock: one at a time. Fewer
   * frames than the last commit left: the WAL started over. */
  int last = g_atomic_int_get (&self->wal_frames);
  int written = pages >= last ? pages - last : pages;
  int busy = g_atomic_int_get (&self->busy_pages);
  int before = g_atomic_int_add (&self->uncopied, written);

  g_atomic_int_set (&self->wal_frames, pages);
  /* The first commit since the checkpointer's last pass starts its wait
   * for a gap (it sleeps until then); past the busy mark, a sixteenth of
   * it more wakes it at once. */
  if (before == 0 || (pages >= busy && before + written >= MAX (busy / 16, 1)))
    {
      g_mutex_lock (&self->checkpoint_lock);
      if (pages >= busy)
        self->checkpoint_busy = TRUE;
      g_cond_signal (&self->checkpoint_cond);
      g_mutex_unlock (&self->checkpoint_lock);
    }
  return SQLITE_OK;
}

/* The first 48 bits of the BLAKE2b of "@table\n@id" (hearth_change_key ()'s
 * top bits; hearth_record_key () of an id not of version 7): must never
 * change. */
static guint64
identity_bits (const unsigned char *table, gsize table_len, const unsigned char *id, gsize id_len)
{
  crypto_generichash_state state;
  guint8 hash[crypto_generichash_BYTES_MIN];
  guint64 key = 0;

  crypto_generichash_init (&state, NULL, 0, sizeof hash);
  crypto_generichash_update (&state, table, table_len);
  crypto_generichash_update (&state, (const unsigned char *) "\n", 1);
  crypto_generichash_update (&state, id, id_len);
  crypto_generichash_final (&state, hash, sizeof hash);
  for (guint i = 0; i < 6; i++)
    key = key << 8 | hash[i];
  return key;
}

/* The bit that sets the key of a record whose id is time-ordered apart
 * from the others' (0025-record-time-key.sql). */
#define RECORD_KEY_TIMED (G_GUINT64_CONSTANT (1) << 62)

/* hearth_record_key (@table, @id): for an id of version 7
 * (hearth_record_id_time()), RECORD_KEY_TIMED, then its 48 bits of time,
 * then the top 14 of identity_bits (); for any other, identity_bits ()
 * (0017-record-identity-key.sql). Stored: must never change. */
static guint64
record_key_bits (const unsigned char *table, gsize table_len, const unsigned char *id, gsize id_len)
{
  guint64 hash = identity_bits (table, table_len, id, id_len);
  guint64 ms;

  if (hearth_record_id_time ((const char *) id, id_len, &ms))
    return RECORD_KEY_TIMED | ms << 14 | hash >> 34;
  return hash;
}

/* hearth_record_key (@table, @id) computed here, bound to a statement
 * rather than computed by it: a push's statements looked a record up by
 * its key three or four times, each a call of the SQL function. */
static gint64
record_key (const char *table, const char *id)
{
  return (gint64) record_key_bits ((const unsigned char *) table, strlen (table), (const unsigned char *) id,
                                   strlen (id));
}

/* record_key (@table, @id), the one sqlite_note_prepared() was given
 * when it is that record's. */
static gint64
txn_record_key (SqliteTxn *t, const char *table, const char *id)
{
  if (t->known && strcmp (id, t->known_id) == 0 && strcmp (table, t->known_table) == 0)
    return t->known_key;
  return record_key (table, id);
}

/* The 16 bits of the BLAKE2b of @field (hearth_field_key ()): must never
 * change; 0 for %NULL. */
static gint64
field_bits (const char *field, gsize len)
{
  guint8 hash[crypto_generichash_BYTES_MIN];

  if (field == NULL)
    return 0;
  crypto_generichash (hash, sizeof hash, (const unsigned char *) field, len, NULL, 0);
  return hash[0] << 8 | hash[1];
}

/* hearth_change_key (tbl, record_id, field): the key of a change in
 * changes.ikey and its index changes_by_key (0011-change-key.sql). The
 * top 48 bits are the BLAKE2b of "tbl\nrecord_id", the low 16 that of
 * field (0 when field is NULL: a record), so that a record's changes sit
 * side by side in the index and its edits lie in [key (tbl, record_id,
 * NULL), that + 65535]. The key of every edit from 0011 to 0014
 * (0014-record-key.sql: a record's row has none), which those migrations
 * compute: the function must never change. Since 0015 an edit's key is
 * RECORD_KEY (its record's number instead of the 48 bits). NULL when tbl
 * or record_id is. */
static void
sql_change_key (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const unsigned char *table = sqlite3_value_text (argv[0]);
  const unsigned char *id = sqlite3_value_text (argv[1]);
  const unsigned char *field = sqlite3_value_text (argv[2]);
  guint64 key;

  g_assert (argc == 3);
  if (table == NULL || id == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  key = identity_bits (table, (gsize) sqlite3_value_bytes (argv[0]), id, (gsize) sqlite3_value_bytes (argv[1])) << 16;
  if (field != NULL)
    key |= (guint64) field_bits ((const char *) field, (gsize) sqlite3_value_bytes (argv[2]));
  sqlite3_result_int64 (ctx, (sqlite3_int64) key);
}

/* hearth_record_key (tbl, record_id): the key a record is found by in
 * record_state.idkey and, for an immutable record, changes.vkey, a
 * non-negative integer. For a record_id that is a UUID of version 7
 * (sync/record-id.h), 2^62 + its time in milliseconds * 2^14 + the top 14
 * bits of the hash below (0025-record-time-key.sql): ids made one after
 * another have keys one after another, their entries side by side at the
 * end of the indexes, and ids of one millisecond are spread over 16,384
 * keys. For any other, the top 48 bits of hearth_change_key (tbl,
 * record_id, NULL) (0017-record-identity-key.sql). Stored: the function
 * must never change. NULL when tbl or record_id is. */
static void
sql_record_key (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const unsigned char *table = sqlite3_value_text (argv[0]);
  const unsigned char *id = sqlite3_value_text (argv[1]);

  g_assert (argc == 2);
  if (table == NULL || id == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  sqlite3_result_int64 (ctx, (sqlite3_int64) record_key_bits (table, (gsize) sqlite3_value_bytes (argv[0]), id,
                                                              (gsize) sqlite3_value_bytes (argv[1])));
}

/* hearth_version_key (hlc): changes.vkey (0011-change-key.sql), the first
 * 64 bits of the BLAKE2b of an edit's version, so that the index
 * changes_by_key finds an edit by its identity in one step. Stored in
 * every row: the function must never change. NULL for NULL (a record). */
static gint64
version_bits (const char *hlc, gsize len)
{
  guint8 hash[crypto_generichash_BYTES_MIN];
  guint64 key = 0;

  crypto_generichash (hash, sizeof hash, (const unsigned char *) hlc, (unsigned long long) len, NULL, 0);
  for (guint i = 0; i < 8; i++)
    key = key << 8 | hash[i];
  return (gint64) key;
}

static void
sql_version_key (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const unsigned char *hlc = sqlite3_value_text (argv[0]);

  g_assert (argc == 1);
  if (hlc == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  sqlite3_result_int64 (ctx, version_bits ((const char *) hlc, (gsize) sqlite3_value_bytes (argv[0])));
}

/* hearth_field_key (field): the low 16 bits of an edit's key
 * (0015-record-number.sql), those hearth_change_key () gives @field: 16
 * bits of its BLAKE2b; 0 for NULL (a write of several fields, or a
 * record). Stored in every edit's key: the function must never change. */
static void
sql_field_key (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const unsigned char *field = sqlite3_value_text (argv[0]);

  g_assert (argc == 1);
  sqlite3_result_int64 (ctx, field_bits ((const char *) field, (gsize) sqlite3_value_bytes (argv[0])));
}

void
hearth_center_store_sqlite_set_pull_by_village (HearthCenterStore *store, gboolean by_village)
{
  g_return_if_fail (HEARTH_IS_CENTER_STORE_SQLITE (store));
  g_atomic_int_set (&HEARTH_CENTER_STORE_SQLITE (store)->pull_by_village, by_village);
}

/* hearth_fields (fields [, cursor]): a record's fields as JSON text,
 * whether stored as text or packed (0019-packed-fields.sql); NULL for
 * NULL. Packed fields that do not unpack are an error, which names the
 * row's cursor when given (an export that meets a damaged row says
 * which). */
static void
sql_fields (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  g_autoptr(GError) local = NULL;
  char *text;

  g_assert (argc == 1 || argc == 2);
  if (sqlite3_value_type (argv[0]) != SQLITE_BLOB)
    {
      sqlite3_result_value (ctx, argv[0]);
      return;
    }
  text = hearth_center_fields_unpack (sqlite3_value_blob (argv[0]), (gsize) sqlite3_value_bytes (argv[0]), &local);
  if (text == NULL)
    {
      g_autofree char *message = argc == 2 ? g_strdup_printf ("change %" G_GINT64_FORMAT ": %s",
                                                             (gint64) sqlite3_value_int64 (argv[1]), local->message)
                                           : NULL;

      sqlite3_result_error (ctx, message != NULL ? message : local->message, -1);
      return;
    }
  sqlite3_result_text64 (ctx, text, strlen (text), g_free, SQLITE_UTF8);
}

int
hearth_center_store_sqlite_add_functions (sqlite3 *db)
{
  int rc = sqlite3_create_function (db, "hearth_change_key", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                    NULL, sql_change_key, NULL, NULL);

  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_version_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                  NULL, sql_version_key, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_field_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                  NULL, sql_field_key, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_record_key", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                  NULL, sql_record_key, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_fields", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                  NULL, sql_fields, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function (db, "hearth_fields", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                  NULL, sql_fields, NULL, NULL);
  return rc;
}

/* SQLite's process-wide settings, before its first use
 * (hearth_sqlite_initialize(), shared with the tablet's store, which the
 * tests open in the same process): no count of SQLite's memory, which
 * otherwise takes one process-wide mutex at every allocation and free of
 * every connection, some 20 instructions a change. */
static void
sqlite_setup (void)
{
  hearth_sqlite_initialize ();
}

static Conn *
conn_open (HearthCenterStoreSqlite *self, const char *path, GError **error)
{
  g_autofree Conn *conn = g_new0 (Conn, 1);
  char *msg = NULL;
  int rc;

  sqlite_setup ();
  rc = sqlite3_open_v2 (path, &conn->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
  if (rc != SQLITE_OK)
    {
      db_failed (conn->db, rc, path, error);
      sqlite3_close (conn->db);
      return NULL;
    }
  sqlite3_busy_timeout (conn->db, BUSY_TIMEOUT_MS);
  /* Before the migrations: 0011 computes the keys of every stored change. */
  rc = hearth_center_store_sqlite_add_functions (conn->db);
  if (rc != SQLITE_OK)
    {
      db_failed (conn->db, rc, path, error);
      sqlite3_close (conn->db);
      return NULL;
    }
  /* synchronous=FULL: an acknowledged push survives a power cut
   * (PROTOCOL.md section 1; a pipelined store's writers turn to NORMAL
   * and sync the WAL after their commit, sqlite_begin()). Reads through a memory map: a pull page
   * looks up rows all over the change log, which through read() cost a
   * copy of every page each time (the map is shared by the connections;
   * writes still go through the WAL). Temporary files in memory: each
   * push of a group commit is a savepoint, whose journal keeps the first
   * image of every page the push changes; past 64 KiB SQLite spilled it
   * to a temporary file, a write() per page (7% of the center's time in
   * the bench's ingest). It holds a push's pages at most, and goes with
   * the savepoint. */
  rc = sqlite3_exec (conn->db,
                     "PRAGMA page_size = " G_STRINGIFY (PAGE_BYTES) "; "
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                     "PRAGMA trusted_schema = OFF; PRAGMA temp_store = MEMORY; "
                     "PRAGMA mmap_size = " G_STRINGIFY (MMAP_BYTES) "; "
                     "PRAGMA cache_size = -" G_STRINGIFY (CACHE_KIB) "; "
                     "PRAGMA journal_size_limit = " G_STRINGIFY (WAL_LIMIT_BYTES),
                     NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                   _("the center's database: %s: %s"), path, msg != NULL ? msg : sqlite3_errstr (rc));
      sqlite3_free (msg);
      sqlite3_close (conn->db);
      return NULL;
    }
  /* Keyed by the SQL's address: every statement is a string literal
   * (stmt()), and hashing its text cost more per change than some of the
   * statements it found. */
  conn->stmts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, finalize_stmt);
  conn->walk_stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_stmts);
  sqlite3_wal_hook (conn->db, on_wal_commit, self);
  return g_steal_pointer (&conn);
}

static gboolean
txn_fail (SqliteTxn *t, int rc, GError **error)
{
  return db_failed (t->conn->db, rc, _("a statement failed"), error);
}

/* A prepared statement for @sql (a string literal: its address keys the
 * cache), reset and unbound. */
static sqlite3_stmt *
stmt (SqliteTxn *t, const char *sql, GError **error)
{
  sqlite3_stmt *st = g_hash_table_lookup (t->conn->stmts, sql);
  int rc;

  if (st != NULL)
    {
      sqlite3_reset (st);
      sqlite3_clear_bindings (st);
      return st;
    }
  rc = sqlite3_prepare_v3 (t->conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
  if (rc != SQLITE_OK)
    {
      txn_fail (t, rc, error);
      return NULL;
    }
  g_hash_table_insert (t->conn->stmts, (gpointer) sql, st);
  return st;
}

/* stmt() for a statement whose every parameter its caller binds again
 * each time: without sqlite3_clear_bindings(), which releases each of
 * them (the INSERT into changes: some 350 instructions a change). */
static sqlite3_stmt *
stmt_rebound (SqliteTxn *t, const char *sql, GError **error)
{
  sqlite3_stmt *st = g_hash_table_lookup (t->conn->stmts, sql);

  if (st != NULL)
    {
      sqlite3_reset (st);
      return st;
    }
  return stmt (t, sql, error);
}

/* Steps a statement that returns no row. */
static gboolean
run (SqliteTxn *t, sqlite3_stmt *st, GError **error)
{
  int rc = sqlite3_step (st);

  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return txn_fail (t, rc, error);
  return TRUE;
}

/* Steps a query: SQLITE_ROW, SQLITE_DONE, or -1 with @error set. */
static int
step (SqliteTxn *t, sqlite3_stmt *st, GError **error)
{
  int rc = sqlite3_step (st);

  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    return rc;
  txn_fail (t, rc, error);
  sqlite3_reset (st);
  return -1;
}

static void
bind_text (sqlite3_stmt *st, int i, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (st, i, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (st, i);
}

/* bind_text() without SQLite's copy of @text, for a statement the caller
 * steps to its end while @text lives (SQLite reads a bound value during
 * sqlite3_step() only; stmt() unbinds before the next use): a push binds
 * some ten texts for each change it stores. */
static void
bind_borrowed (sqlite3_stmt *st, int i, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (st, i, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (st, i);
}

static void
bind_time (sqlite3_stmt *st, int i, gint64 ms)
{
  if (ms != 0)
    sqlite3_bind_int64 (st, i, ms);
  else
    sqlite3_bind_null (st, i);
}

static char *
column_text (sqlite3_stmt *st, int i)
{
  return g_strdup ((const char *) sqlite3_column_text (st, i));
}

static gboolean
not_found (GError **error, const char *what)
{
  g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_NOT_FOUND, "%s", what);
  return FALSE;
}

/* ---- the store ------------------------------------------------------------- */

/* One pass: PASSIVE copies as much as it can without waiting for readers
 * or writers, then the WAL is started over. A writer starts it over by
 * itself only when no reader holds a snapshot in it (an authentication,
 * a pull page, a push waiting for durability: some always do right after
 * a burst), and a WAL never started over grows (past 2 GiB in the bench's
 * ingest once) with every page read from it copied through read() rather
 * than mapped. */
static void
checkpoint_pass (HearthCenterStoreSqlite *self, sqlite3 *db, gboolean busy)
{
  int log = 0, copied = 0;
  gint64 start = g_get_monotonic_time ();

  /* What this pass copies: what was committed until now. */
  g_atomic_int_add (&self->uncopied, -g_atomic_int_get (&self->uncopied));
  sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
  /* Between two writers (most of it was copied above, off their way),
   * waiting a little for the readers of older snapshots. RESTART's wait
   * is SQLite's busy handler, which sleeps while the writers of this
   * process queue on write_lock: bounded by RESTART_WAIT_MS. */
  if (log > 0)
    {
      /* What the writers committed during the pass above (past the busy
       * mark), copied before they wait on it. */
      if (log - copied > g_atomic_int_get (&self->busy_pages) / 16)
        sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
      g_rec_mutex_lock (&self->write_lock);
      sqlite3_busy_timeout (db, RESTART_WAIT_MS);
      sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_RESTART, &log, &copied);
      sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);
      g_rec_mutex_unlock (&self->write_lock);
    }
  /* Frame counts and times only: nothing of what the frames hold. */
  g_debug ("checkpoint (%s): %d of %d frames of the WAL copied in %" G_GINT64_FORMAT " ms", busy ? "busy" : "idle",
           copied, log, (g_get_monotonic_time () - start) / 1000);
}

/* Waits for a commit, then for a gap of idle_ms without one (a commit in
 * the gap starts it again), and copies; a WAL past the busy mark is
 * copied at once. */
static gpointer
checkpointer_main (gpointer data)
{
  HearthCenterStoreSqlite *self = data;
  sqlite3 *db = NULL;

  if (sqlite3_open_v2 (self->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    {
      g_warning ("the checkpointer cannot open %s: %s", self->path, sqlite3_errmsg (db));
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);
  /* FULL (NORMAL would do): a checkpoint syncs the WAL before it copies
   * a frame into the database, so a pipelined commit not synced yet
   * (wait_durable()) never reaches the database before its WAL frames
   * are durable, and syncs the database after. */
  sqlite3_exec (db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
  g_mutex_lock (&self->checkpoint_lock);
  while (!self->checkpoint_stop)
    {
      gboolean busy = self->checkpoint_busy;

      if (!busy)
        {
          int seen = g_atomic_int_get (&self->uncopied);

          if (seen == 0)
            {
              g_cond_wait (&self->checkpoint_cond, &self->checkpoint_lock);
              continue;
            }
          /* A signal (the busy mark, a stop, the marks set anew) or a
           * spurious wake-up looks again; a commit during the wait is
           * seen by the count. */
          if (g_cond_wait_until (&self->checkpoint_cond, &self->checkpoint_lock,
                                 g_get_monotonic_time () + g_atomic_int_get (&self->idle_ms) * G_TIME_SPAN_MILLISECOND)
              || g_atomic_int_get (&self->uncopied) != seen)
            continue;
        }
      self->checkpoint_busy = FALSE;
      g_mutex_unlock (&self->checkpoint_lock);
      checkpoint_pass (self, db, busy);
      g_mutex_lock (&self->checkpoint_lock);
    }
  g_mutex_unlock (&self->checkpoint_lock);
  sqlite3_close (db);
  return NULL;
}

void
hearth_center_store_sqlite_set_checkpoint (HearthCenterStore *store, guint idle_ms, gint64 busy_bytes)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (store);

  g_return_if_fail (idle_ms > 0 && idle_ms <= G_MAXINT && busy_bytes > 0);
  g_atomic_int_set (&self->idle_ms, (int) idle_ms);
  g_atomic_int_set (&self->busy_pages, (int) CLAMP (busy_bytes / self->page_bytes, 1, G_MAXINT));
  g_mutex_lock (&self->checkpoint_lock);
  g_cond_signal (&self->checkpoint_cond);
  g_mutex_unlock (&self->checkpoint_lock);
}

static void
hearth_center_store_sqlite_finalize (GObject *object)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (object);

  /* First: it reads through a connection of the pool. */
  if (self->filter_thread != NULL)
    g_thread_join (self->filter_thread);
  if (self->checkpointer != NULL)
    {
      g_mutex_lock (&self->checkpoint_lock);
      self->checkpoint_stop = TRUE;
      g_cond_signal (&self->checkpoint_cond);
      g_mutex_unlock (&self->checkpoint_lock);
      g_thread_join (self->checkpointer);
    }
  g_mutex_clear (&self->checkpoint_lock);
  g_cond_clear (&self->checkpoint_cond);
  g_mutex_clear (&self->sync_lock);
  g_cond_clear (&self->sync_cond);
  g_clear_error (&self->sync_error);
  g_ptr_array_unref (self->spent_states);
  g_mutex_clear (&self->wal_lock);
  if (self->wal_fd >= 0)
    close (self->wal_fd);
  g_ptr_array_unref (self->idle);
  g_clear_pointer (&self->filter_build, filter_build_free);
  g_mutex_clear (&self->filter_hold_lock);
  g_cond_clear (&self->filter_hold_cond);
  g_clear_pointer (&self->pending_state, g_array_unref);
  g_clear_pointer (&self->pending_record, g_array_unref);
  g_clear_pointer (&self->writer, conn_free);
  g_clear_pointer (&self->state_keys, key_filter_free);
  g_clear_pointer (&self->record_keys, key_filter_free);
  g_ptr_array_unref (self->pull_named);
  g_mutex_clear (&self->lock);
  g_rec_mutex_clear (&self->write_lock);
  g_free (self->path);
  G_OBJECT_CLASS (hearth_center_store_sqlite_parent_class)->finalize (object);
}

static void
hearth_center_store_sqlite_class_init (HearthCenterStoreSqliteClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hearth_center_store_sqlite_finalize;
}

static void
hearth_center_store_sqlite_init (HearthCenterStoreSqlite *self)
{
  g_mutex_init (&self->lock);
  g_rec_mutex_init (&self->write_lock);
  g_mutex_init (&self->checkpoint_lock);
  g_cond_init (&self->checkpoint_cond);
  g_mutex_init (&self->sync_lock);
  g_cond_init (&self->sync_cond);
  g_mutex_init (&self->wal_lock);
  g_mutex_init (&self->filter_hold_lock);
  g_cond_init (&self->filter_hold_cond);
  self->wal_fd = -1;
  self->idle = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_free);
  self->spent_states = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  self->pull_named = g_ptr_array_new_with_free_func ((GDestroyNotify) pull_named_free);
  self->pull_by_village = TRUE;
}

/* The store's page size in bytes (PAGE_BYTES for a store made since,
 * 4096 for one made before), which the checkpointer's marks are counted
 * in. */
static gboolean
store_page_bytes (sqlite3 *db, gint64 *out, GError **error)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2 (db, "PRAGMA page_size", -1, &st, NULL);

  if (rc == SQLITE_OK && (rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      *out = sqlite3_column_int64 (st, 0);
      rc = *out >= 512 ? SQLITE_OK : SQLITE_CORRUPT;
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_OK)
    return db_failed (db, rc, _("a statement failed"), error);
  return TRUE;
}

/* Makes the batch signing key (0018-batch-signing-key.sql) when the store
 * has none: a store made by init, or one from before the migration. Two
 * processes opening the store at once both try; the first row stays. */
static gboolean
ensure_batch_key (sqlite3 *db, GError **error)
{
  sqlite3_stmt *st = NULL;
  guint8 *seed = NULL;
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  guint8 *secret_key = NULL;
  gboolean have = FALSE;
  int rc;

  rc = sqlite3_prepare_v2 (db, "SELECT 1 FROM batch_signing_key WHERE only_row = 1", -1, &st, NULL);
  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (st);
      have = rc == SQLITE_ROW;
      rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_OK)
    return db_failed (db, rc, _("could not read the batch signing key"), error);
  if (have)
    return TRUE;

  seed = sodium_malloc (crypto_sign_SEEDBYTES);
  secret_key = sodium_malloc (crypto_sign_SECRETKEYBYTES);
  if (seed == NULL || secret_key == NULL)
    g_error ("sodium_malloc failed");
  randombytes_buf (seed, crypto_sign_SEEDBYTES);
  crypto_sign_seed_keypair (public_key, secret_key, seed);
  rc = sqlite3_prepare_v2 (db, "INSERT OR IGNORE INTO batch_signing_key (only_row, seed, public_key, created_at) "
                               "VALUES (1, ?, ?, ?)", -1, &st, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_blob (st, 1, seed, crypto_sign_SEEDBYTES, SQLITE_STATIC);
      sqlite3_bind_blob (st, 2, public_key, sizeof public_key, SQLITE_STATIC);
      sqlite3_bind_int64 (st, 3, g_get_real_time () / 1000);
      rc = sqlite3_step (st);
      rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
  /* Before the seed is wiped: the statement holds it bound. */
  sqlite3_finalize (st);
  sodium_free (seed);
  sodium_free (secret_key);
  if (rc != SQLITE_OK)
    return db_failed (db, rc, _("could not keep the batch signing key"), error);
  return TRUE;
}

/* Whether the SQLite file at @path may be opened as a center store: one
 * that a migration made (its user_version), or one without any table yet
 * (a store whose init stopped before its first migration). Another
 * program's database named by mistake is refused, read only: opening it
 * would turn it to WAL mode and add the center's tables to it (and
 * vacuum would rewrite it). A file SQLite cannot read is left to the
 * open that follows, which says why. */
static gboolean
is_center_store (const char *path, GError **error)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  gboolean foreign = FALSE;

  sqlite_setup ();
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2 (db, "SELECT (SELECT user_version FROM pragma_user_version) = 0 "
                              "AND EXISTS (SELECT 1 FROM sqlite_schema)", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step (st) == SQLITE_ROW)
    foreign = sqlite3_column_int (st, 0) != 0;
  sqlite3_finalize (st);
  sqlite3_close (db);
  if (foreign)
    g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_NO_STORE,
                 _("%s is another program's database, not a center store (make one with hearth-center init)"),
                 path);
  return !foreign;
}

HearthCenterStore *
hearth_center_store_sqlite_open (const char *path, gboolean create, GError **error)
{
  g_autoptr(HearthCenterStoreSqlite) self = NULL;
  g_autoptr(GPtrArray) migrations = NULL;
  g_autoptr(GError) local = NULL;
  Conn *conn;
  gint64 page = 0;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      int fd;

      if (!create)
        {
          g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_NO_STORE,
                       _("there is no center store at %s (make one with hearth-center init)"), path);
          return NULL;
        }
      /* The store holds personal data: private from its first byte (SQLite
       * gives its WAL the database file's mode). */
      fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0)
        {
          int saved = errno;
          /* A folder missing or not the user's is the path given, not a
           * failure of the store (exit 1, not 70). */
          gboolean path_bad = saved == ENOENT || saved == ENOTDIR || saved == EACCES || saved == EROFS;

          g_set_error (error, HEARTH_CENTER_STORE_ERROR,
                       path_bad ? HEARTH_CENTER_STORE_ERROR_NO_STORE : HEARTH_CENTER_STORE_ERROR_FAILED,
                       _("could not create %s: %s"), path, g_strerror (saved));
          return NULL;
        }
      close (fd);
    }
  else if (!create && !is_center_store (path, error))
    return NULL;

  self = g_object_new (HEARTH_TYPE_CENTER_STORE_SQLITE, NULL);
  self->path = g_strdup (path);
  conn = conn_open (self, path, error);
  if (conn == NULL)
    return NULL;
  g_ptr_array_add (self->idle, conn);
  if (!store_page_bytes (conn->db, &page, error))
    return NULL;
  self->page_bytes = page;
  self->idle_ms = CHECKPOINT_IDLE_MS;
  self->busy_pages = WAL_BUSY_BYTES / page;

  migrations = hearth_migrations_load_resource (hearth_center_schema_get_resource (), MIGRATIONS_PATH, &local);
  if (migrations == NULL || !hearth_migrations_apply (conn->db, migrations, &local))
    {
      g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_SCHEMA, _("%s: %s"), path,
                   local->message);
      return NULL;
    }
  if (!ensure_batch_key (conn->db, error))
    return NULL;
  self->checkpointer = g_thread_new ("checkpointer", checkpointer_main, self);
  return HEARTH_CENTER_STORE (g_steal_pointer (&self));
}

/* ---- durability (PROTOCOL.md section 1) ---------------------------------------- */

/* fdatasync()s the store's WAL through a descriptor of its own (on Linux
 * a sync of any descriptor of a file flushes the file: the writers'
 * frames with it). The descriptor is checked to still be the WAL's file
 * before and after the sync: SQLite deletes the WAL when its last
 * connection closes (after a checkpoint that synced the database, so
 * what the old file held is durable) and a new one may take the name;
 * then the new one is opened and synced. A WAL opened anew has its folder
 * synced once too, as SQLite does for a WAL it makes. No WAL at all: its
 * last connection checkpointed everything into the synced database.
 * Under wal_lock. */
static gboolean
wal_sync_locked (HearthCenterStoreSqlite *self, GError **error)
{
  g_autofree char *wal = g_strconcat (self->path, "-wal", NULL);

  for (int tries = 0; tries < 4; tries++)
    {
      struct stat open_st, path_st;
      gboolean opened = FALSE;

      if (self->wal_fd >= 0 &&
          (fstat (self->wal_fd, &open_st) != 0 || g_stat (wal, &path_st) != 0 || open_st.st_ino != path_st.st_ino ||
           open_st.st_dev != path_st.st_dev))
        {
          close (self->wal_fd);
          self->wal_fd = -1;
        }
      if (self->wal_fd < 0)
        {
          self->wal_fd = g_open (wal, O_RDONLY | O_CLOEXEC, 0);
          if (self->wal_fd < 0 && errno == ENOENT)
            return TRUE;
          if (self->wal_fd < 0)
            break;
          opened = TRUE;
        }
      if (fdatasync (self->wal_fd) != 0)
        break;
      if (opened)
        {
          g_autofree char *folder = g_path_get_dirname (self->path);
          int dir = g_open (folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

          if (dir < 0 || fsync (dir) != 0)
            {
              int saved = errno;

              if (dir >= 0)
                close (dir);
              errno = saved;
              break;
            }
          close (dir);
        }
      /* Still the WAL after the sync: what was written to it before is
       * on disk. */
      if (fstat (self->wal_fd, &open_st) == 0 && g_stat (wal, &path_st) == 0 && open_st.st_ino == path_st.st_ino &&
          open_st.st_dev == path_st.st_dev)
        return TRUE;
    }
  {
    int saved = errno;

    g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_NOT_DURABLE,
                 _("the center's database: could not write %s to disk: %s"), wal,
                 saved != 0 ? g_strerror (saved) : _("the file kept being replaced"));
  }
  return FALSE;
}

static gboolean
wal_sync (HearthCenterStoreSqlite *self, GError **error)
{
  gboolean ok;

  g_mutex_lock (&self->wal_lock);
  ok = wal_sync_locked (self, error);
  g_mutex_unlock (&self->wal_lock);
  return ok;
}

/* Returns once the first @ticket commits of this process are synced:
 * one thread at a time syncs the WAL, for every commit ended before it
 * began; the others wait and take that sync when it covers them. A sync
 * that failed fails every wait after it (the kernel may have dropped the
 * pages it could not write, and a later sync would say nothing of them):
 * the center is to be restarted (docs/operations.md). */
static gboolean
wait_durable (HearthCenterStoreSqlite *self, guint64 ticket, GError **error)
{
  gboolean ok;

  g_mutex_lock (&self->sync_lock);
  /* The states of the commits before, freed here, out of the writer
   * (spent_states). */
  if (self->spent_states->len > 0)
    {
      GPtrArray *spent = self->spent_states;

      self->spent_states = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
      g_mutex_unlock (&self->sync_lock);
      g_ptr_array_unref (spent);
      g_mutex_lock (&self->sync_lock);
    }
  while (self->sync_error == NULL && self->durable < ticket)
    {
      g_autoptr(GError) local = NULL;
      guint64 target;

      /* Another thread syncs, or the commit waited for is still writing
       * its frames: its end or the sync's wakes this one. */
      if (self->syncing || self->commits_done < ticket)
        {
          g_cond_wait (&self->sync_cond, &self->sync_lock);
          continue;
        }
      self->syncing = TRUE;
      target = self->commits_done;
      g_mutex_unlock (&self->sync_lock);
      ok = wal_sync (self, &local);
      g_mutex_lock (&self->sync_lock);
      self->syncing = FALSE;
      if (ok)
        self->durable = MAX (self->durable, target);
      else
        {
          g_warning ("%s; nothing more is acknowledged until hearth-center is restarted", local->message);
          self->sync_error = g_steal_pointer (&local);
        }
      g_cond_broadcast (&self->sync_cond);
    }
  ok = self->sync_error == NULL;
  if (!ok)
    g_set_error_literal (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_NOT_DURABLE,
                         self->sync_error->message);
  g_mutex_unlock (&self->sync_lock);
  return ok;
}

/* What a snapshot taken before this call holds is made durable before
 * it is handed out: in a pipelined store, every commit begun until now
 * (one may be in a COMMIT still: waited for, as it may be in the
 * snapshot already); in another process, the serving one's commits
 * are synced by this one (one fdatasync: the frames of every commit in
 * the snapshot were written before it was taken). */
static gboolean
snapshot_durable (HearthCenterStoreSqlite *self, GError **error)
{
  guint64 ticket;

  if (!g_atomic_int_get (&self->pipelined))
    return wal_sync (self, error);
  g_mutex_lock (&self->sync_lock);
  ticket = self->commits_begun;
  g_mutex_unlock (&self->sync_lock);
  return wait_durable (self, ticket, error);
}

static void
sqlite_pipeline (HearthCenterStore *store)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (store);

  g_atomic_int_set (&self->pipelined, TRUE);
}

static gboolean
sqlite_wait_durable (HearthCenterStore *store, guint64 ticket, GError **error)
{
  return wait_durable (HEARTH_CENTER_STORE_SQLITE (store), ticket, error);
}

static HearthCenterTxn *
sqlite_begin (HearthCenterStore *store, gboolean write, GError **error)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (store);
  SqliteTxn *t;
  Conn *conn = NULL;
  int rc;

  /* IMMEDIATE: a writer takes the lock before it reads, so two pushes never
   * both read the same acknowledged number. */
  if (write)
    {
      g_rec_mutex_lock (&self->write_lock);
      if (!self->writer_busy)
        {
          if (self->writer == NULL && (self->writer = conn_open (self, self->path, error)) == NULL)
            {
              g_rec_mutex_unlock (&self->write_lock);
              return NULL;
            }
          conn = self->writer;
          self->writer_busy = TRUE;
        }
    }
  if (conn == NULL)
    {
      g_mutex_lock (&self->lock);
      if (self->idle->len > 0)
        conn = g_ptr_array_steal_index_fast (self->idle, self->idle->len - 1);
      g_mutex_unlock (&self->lock);
    }
  if (conn == NULL && (conn = conn_open (self, self->path, error)) == NULL)
    {
      if (write)
        g_rec_mutex_unlock (&self->write_lock);
      return NULL;
    }
  /* A pipelined store's writers commit without a sync, wait_durable()
   * syncs (PROTOCOL.md section 1); set outside a transaction. */
  rc = SQLITE_OK;
  if (write && !conn->relaxed && g_atomic_int_get (&self->pipelined))
    {
      rc = sqlite3_exec (conn->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
      conn->relaxed = rc == SQLITE_OK;
    }
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (conn->db, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      db_failed (conn->db, rc, _("could not begin a transaction"), error);
      if (conn == self->writer)
        self->writer_busy = FALSE;
      else
        {
          g_mutex_lock (&self->lock);
          g_ptr_array_add (self->idle, conn);
          g_mutex_unlock (&self->lock);
        }
      if (write)
        g_rec_mutex_unlock (&self->write_lock);
      return NULL;
    }
  t = g_new0 (SqliteTxn, 1);
  t->parent.store = g_object_ref (store);
  t->conn = conn;
  t->write = write;
  if (write)
    {
      /* Under SQLite's write lock: every commit before is done. */
      g_mutex_lock (&self->sync_lock);
      t->seen = self->commits_done;
      g_mutex_unlock (&self->sync_lock);
    }
  else
    {
      /* A reader's snapshot is taken by its first read: taken here, and
       * what it holds made durable before anything of it is read
       * (snapshot_durable()). */
      sqlite3_stmt *st = stmt (t, "SELECT 1 FROM sqlite_schema LIMIT 1", error);

      if (st == NULL)
        rc = SQLITE_ERROR;
      else
        {
          rc = sqlite3_step (st);
          sqlite3_reset (st);
          if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            rc = SQLITE_OK;
          else
            db_failed (conn->db, rc, _("could not begin a transaction"), error);
        }
      if (rc != SQLITE_OK || !snapshot_durable (self, error))
        {
          sqlite_rollback (&t->parent);
          return NULL;
        }
    }
  return &t->parent;
}

/* Returns the connection to the pool, or closes it when it is stuck in a
 * transaction, and frees @t. */
static void
txn_end (SqliteTxn *t)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (t->parent.store);

  if (t->write && t->conn == self->writer)
    {
      /* Under write_lock, which a writer holds. */
      if (!sqlite3_get_autocommit (t->conn->db))
        {
          /* Its data_version dies with it: the filters are read again
           * (a reading under way is for the old one). */
          g_clear_pointer (&self->writer, conn_free);
          g_clear_pointer (&self->state_keys, key_filter_free);
          g_clear_pointer (&self->record_keys, key_filter_free);
          g_clear_pointer (&self->pending_state, g_array_unref);
          g_clear_pointer (&self->pending_record, g_array_unref);
          self->writer_gen++;
        }
      self->writer_busy = FALSE;
    }
  else if (sqlite3_get_autocommit (t->conn->db))
    {
      g_mutex_lock (&self->lock);
      g_ptr_array_add (self->idle, t->conn);
      g_mutex_unlock (&self->lock);
    }
  else
    conn_free (t->conn);
  if (t->write)
    g_rec_mutex_unlock (&self->write_lock);
  t->last_state = NULL;
  g_clear_pointer (&t->states, g_hash_table_unref);
  g_clear_pointer (&t->held, g_hash_table_unref);
  g_free (t->edit_absent);
  g_free (t->numbered_id);
  g_object_unref (t->parent.store);
  g_free (t);
}

/* Commits; @ticket (nullable): a pipelined commit returns without
 * waiting for its sync, its number to hearth_center_store_wait_durable()
 * in @ticket (0: durable already). Without @ticket it waits, after
 * letting the next writer go. */
/* Writes the receipt of the changes @t stored, if any: its range of
 * cursors and of receipt times, one row of change_receipts, merged with
 * a row ending at the same cursor (0020-change-receipts.sql). */
static gboolean
receipt_flush (SqliteTxn *t, GError **error)
{
  sqlite3_stmt *st;

  if (t->receipt_last == 0)
    return TRUE;
  st = stmt (t, "INSERT INTO change_receipts (last_cursor, first_cursor, first_received, last_received) "
                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (last_cursor) DO UPDATE SET "
                "first_cursor = min (first_cursor, excluded.first_cursor), "
                "first_received = min (first_received, excluded.first_received), "
                "last_received = max (last_received, excluded.last_received)", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, t->receipt_last);
  sqlite3_bind_int64 (st, 2, t->receipt_first);
  sqlite3_bind_int64 (st, 3, t->receipt_from);
  sqlite3_bind_int64 (st, 4, t->receipt_until);
  if (!run (t, st, error))
    return FALSE;
  t->receipt_last = 0;
  return TRUE;
}

/* After a savepoint was undone: the receipt's cursors above the change
 * log's last one are gone (the next cursor given is the log's last plus one),
 * and the receipt with them when none is left. */
static gboolean
receipt_undone (SqliteTxn *t, GError **error)
{
  sqlite3_stmt *st;
  gint64 top;

  if (t->receipt_last == 0)
    return TRUE;
  st = stmt (t, "SELECT coalesce (max (cursor), 0) FROM changes", error);
  if (st == NULL)
    return FALSE;
  if (step (t, st, error) != SQLITE_ROW)
    {
      sqlite3_reset (st);
      return FALSE;
    }
  top = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  if (top < t->receipt_first)
    t->receipt_last = 0;
  else if (top < t->receipt_last)
    t->receipt_last = top;
  return TRUE;
}

static gboolean
commit_txn (SqliteTxn *t, guint64 *ticket, GError **error)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (t->parent.store);
  gboolean relaxed = t->write && t->conn->relaxed;
  guint64 number = 0;
  int rc;

  if (ticket != NULL)
    *ticket = 0;
  /* The states written but kept: nothing reads them again, and a
   * commit that returns a ticket leaves them to the next wait_durable()
   * to free (spent_states), out of the writer; else txn_end() frees
   * them. */
  if (!states_write (t, FALSE, error) || !receipt_flush (t, error))
    {
      sqlite3_exec (t->conn->db, "ROLLBACK", NULL, NULL, NULL);
      txn_end (t);
      return FALSE;
    }
  /* Counted before: a reader whose snapshot may hold it waits for it. */
  if (relaxed)
    {
      g_mutex_lock (&self->sync_lock);
      self->commits_begun++;
      g_mutex_unlock (&self->sync_lock);
    }
  rc = sqlite3_exec (t->conn->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      db_failed (t->conn->db, rc, _("could not commit"), error);
      sqlite3_exec (t->conn->db, "ROLLBACK", NULL, NULL, NULL);
    }
  if (relaxed)
    {
      g_mutex_lock (&self->sync_lock);
      number = ++self->commits_done;
      if (rc == SQLITE_OK && ticket != NULL && t->states != NULL)
        {
          t->last_state = NULL;
          g_ptr_array_add (self->spent_states, g_steal_pointer (&t->states));
        }
      g_cond_broadcast (&self->sync_cond);
      g_mutex_unlock (&self->sync_lock);
    }
  txn_end (t);
  if (rc != SQLITE_OK)
    return FALSE;
  if (ticket != NULL)
    {
      *ticket = number;
      return TRUE;
    }
  return wait_durable (self, number, error);
}

static gboolean
sqlite_commit (HearthCenterTxn *txn, GError **error)
{
  return commit_txn ((SqliteTxn *) txn, NULL, error);
}

static gboolean
sqlite_commit_deferred (HearthCenterTxn *txn, guint64 *ticket, GError **error)
{
  return commit_txn ((SqliteTxn *) txn, ticket, error);
}

static gboolean
sqlite_savepoint (HearthCenterTxn *txn, HearthCenterSavepoint op, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  static const char *const sql[] = {
    [HEARTH_CENTER_SAVEPOINT_BEGIN] = "SAVEPOINT request",
    [HEARTH_CENTER_SAVEPOINT_RELEASE] = "RELEASE request",
    [HEARTH_CENTER_SAVEPOINT_ROLLBACK] = "ROLLBACK TO request; RELEASE request",
  };
  sqlite3_stmt *st;
  int rc;

  /* The states a savepoint sets are written before it ends, and
   * forgotten when it is undone (with what it read, which may hold its
   * own writes). */
  if (t->held != NULL)
    g_hash_table_remove_all (t->held);
  g_clear_pointer (&t->edit_absent, g_free);
  if (op == HEARTH_CENTER_SAVEPOINT_ROLLBACK)
    {
      g_clear_pointer (&t->numbered_id, g_free);
      t->last_state = NULL;
      if (t->states != NULL)
        g_hash_table_remove_all (t->states);
    }
  else if (!states_flush (t, error))
    return FALSE;
  /* A push opens and releases one: prepared once (stmt()), not parsed
   * for each push. The rollback is two statements, and rare. */
  if (op == HEARTH_CENTER_SAVEPOINT_ROLLBACK)
    rc = sqlite3_exec (t->conn->db, sql[op], NULL, NULL, NULL);
  else if ((st = stmt (t, sql[op], error)) == NULL)
    return FALSE;
  else
    {
      rc = sqlite3_step (st);
      sqlite3_reset (st);
      if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }
  if (rc != SQLITE_OK)
    return db_failed (t->conn->db, rc, _("a savepoint failed"), error);
  return op != HEARTH_CENTER_SAVEPOINT_ROLLBACK || receipt_undone (t, error);
}

static void
sqlite_rollback (HearthCenterTxn *txn)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (t->parent.store);
  gboolean relaxed = t->write && t->conn->relaxed;
  gboolean was_write = t->write;
  guint64 seen = t->seen;

  if (!sqlite3_get_autocommit (t->conn->db))
    sqlite3_exec (t->conn->db, "ROLLBACK", NULL, NULL, NULL);
  txn_end (t);
  /* What a pipelined writer read and may answer with (a refusal) is
   * durable before it goes, as a reader's is (out of the writers' way).
   * A failed sync is sticky: the caller's next step fails too. */
  if (relaxed)
    wait_durable (self, seen, NULL);
  else if (was_write)
    wal_sync (self, NULL);
}

/* ---- county, users, codes ----------------------------------------------------- */

static gboolean
sqlite_get_county (HearthCenterTxn *txn, HearthCenterCounty *out, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "SELECT code, time_zone, public_key FROM county WHERE only_row = 1", error);
  int rc;

  memset (out, 0, sizeof *out);
  if (st == NULL || (rc = step (t, st, error)) < 0)
    return FALSE;
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_NOT_INITIALISED,
                   _("the center store has no county yet (run hearth-center init)"));
      return FALSE;
    }
  out->code = column_text (st, 0);
  out->time_zone = column_text (st, 1);
  if (sqlite3_column_bytes (st, 2) == sizeof out->public_key)
    memcpy (out->public_key, sqlite3_column_blob (st, 2), sizeof out->public_key);
  sqlite3_reset (st);
  return TRUE;
}

static gboolean
sqlite_set_county (HearthCenterTxn *txn, const HearthCenterCounty *county, gint64 now, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "INSERT INTO county (only_row, code, time_zone, public_key, created_at) "
                              "VALUES (1, ?, ?, ?, ?)", error);

  if (st == NULL)
    return FALSE;
  bind_text (st, 1, county->code);
  bind_text (st, 2, county->time_zone);
  sqlite3_bind_blob (st, 3, county->public_key, sizeof county->public_key, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, now);
  return run (t, st, error);
}

static gboolean
sqlite_add_user (HearthCenterTxn *txn, const HearthCenterUser *user, gint64 now, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "INSERT INTO users (name, role, created_at) VALUES (?, ?, ?)", error);

  if (st == NULL)
    return FALSE;
  bind_text (st, 1, user->name);
  bind_text (st, 2, user->role);
  sqlite3_bind_int64 (st, 3, now);
  if (!run (t, st, error))
    return FALSE;
  for (guint i = 0; user->scope != NULL && user->scope[i] != NULL; i++)
    {
      st = stmt (t, "INSERT OR IGNORE INTO user_scopes (user, prefix) VALUES (?, ?)", error);
      if (st == NULL)
        return FALSE;
      bind_text (st, 1, user->name);
      bind_text (st, 2, user->scope[i]);
      if (!run (t, st, error))
        return FALSE;
    }
  return TRUE;
}

static HearthCenterUser *
sqlite_get_user (HearthCenterTxn *txn, const char *name, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  g_autoptr(HearthCenterUser) user = NULL;
  g_autoptr(GPtrArray) scope = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = stmt (t, "SELECT role FROM users WHERE name = ?", error);
  int rc;

  if (st == NULL)
    return NULL;
  bind_text (st, 1, name);
  if ((rc = step (t, st, error)) < 0)
    return NULL;
  if (rc == SQLITE_DONE)
    {
      not_found (error, _("no such user"));
      return NULL;
    }
  user = g_new0 (HearthCenterUser, 1);
  user->name = g_strdup (name);
  user->role = column_text (st, 0);
  sqlite3_reset (st);

  st = stmt (t, "SELECT prefix FROM user_scopes WHERE user = ? ORDER BY prefix", error);
  if (st == NULL)
    return NULL;
  bind_text (st, 1, name);
  while ((rc = step (t, st, error)) == SQLITE_ROW)
    g_ptr_array_add (scope, column_text (st, 0));
  sqlite3_reset (st);
  if (rc < 0)
    return NULL;
  g_ptr_array_add (scope, NULL);
  user->scope = (GStrv) g_ptr_array_steal (scope, NULL);
  return g_steal_pointer (&user);
}

static gboolean
sqlite_add_code (HearthCenterTxn *txn, const guint8 *hash, const char *user, gint64 now, gint64 expires_at,
                 GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "INSERT INTO enrol_codes (code_hash, user, created_at, expires_at) VALUES (?, ?, ?, ?)",
                           error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_blob (st, 1, hash, 32, SQLITE_TRANSIENT);
  bind_text (st, 2, user);
  sqlite3_bind_int64 (st, 3, now);
  sqlite3_bind_int64 (st, 4, expires_at);
  return run (t, st, error);
}

static gboolean
sqlite_get_code (HearthCenterTxn *txn, const guint8 *hash, HearthCenterCode *out, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "SELECT user, expires_at, used_at, device_id FROM enrol_codes WHERE code_hash = ?",
                           error);
  int rc;

  memset (out, 0, sizeof *out);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_blob (st, 1, hash, 32, SQLITE_TRANSIENT);
  if ((rc = step (t, st, error)) < 0)
    return FALSE;
  if (rc == SQLITE_DONE)
    return not_found (error, _("no such enrolment code"));
  out->user = column_text (st, 0);
  out->expires_at = sqlite3_column_int64 (st, 1);
  out->used_at = sqlite3_column_int64 (st, 2);
  out->device_id = column_text (st, 3);
  sqlite3_reset (st);
  return TRUE;
}

static gboolean
sqlite_use_code (HearthCenterTxn *txn, const guint8 *hash, const char *device_id, gint64 now, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "UPDATE enrol_codes SET used_at = ?, device_id = ? "
                              "WHERE code_hash = ? AND used_at IS NULL", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, now);
  bind_text (st, 2, device_id);
  sqlite3_bind_blob (st, 3, hash, 32, SQLITE_TRANSIENT);
  if (!run (t, st, error))
    return FALSE;
  if (sqlite3_changes (t->conn->db) != 1)
    return not_found (error, _("no such unused enrolment code"));
  return TRUE;
}

/* ---- devices and nonces ------------------------------------------------------------ */

static gboolean
sqlite_add_device (HearthCenterTxn *txn, const HearthCenterDevice *device, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "INSERT INTO devices (id, user, public_key, name, enrolled_at) VALUES (?, ?, ?, ?, ?)",
                           error);

  if (st == NULL)
    return FALSE;
  bind_text (st, 1, device->id);
  bind_text (st, 2, device->user);
  sqlite3_bind_blob (st, 3, device->public_key, sizeof device->public_key, SQLITE_TRANSIENT);
  bind_text (st, 4, device->name);
  sqlite3_bind_int64 (st, 5, device->enrolled_at);
  return run (t, st, error);
}

static HearthCenterDevice *
device_from_row (sqlite3_stmt *st)
{
  HearthCenterDevice *d = g_new0 (HearthCenterDevice, 1);
  const char *hash = (const char *) sqlite3_column_text (st, 10);

  d->id = column_text (st, 0);
  d->user = column_text (st, 1);
  if (sqlite3_column_bytes (st, 2) == sizeof d->public_key)
    memcpy (d->public_key, sqlite3_column_blob (st, 2), sizeof d->public_key);
  d->name = column_text (st, 3);
  d->enrolled_at = sqlite3_column_int64 (st, 4);
  d->revoked_at = sqlite3_column_int64 (st, 5);
  d->last_seen_at = sqlite3_column_int64 (st, 6);
  d->acked_seq = sqlite3_column_int64 (st, 7);
  d->clamp_floor = column_text (st, 8);
  d->audit_seq = sqlite3_column_int64 (st, 9);
  g_strlcpy (d->audit_hash, hash != NULL ? hash : "", sizeof d->audit_hash);
  d->audit_broken = column_text (st, 11);
  return d;
}

static HearthCenterDevice *
sqlite_get_device (HearthCenterTxn *txn, const char *id, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "SELECT " DEVICE_COLUMNS " FROM devices WHERE id = ?", error);
  HearthCenterDevice *d;
  int rc;

  if (st == NULL)
    return NULL;
  bind_text (st, 1, id);
  if ((rc = step (t, st, error)) < 0)
    return NULL;
  if (rc == SQLITE_DONE)
    {
      not_found (error, _("no such device"));
      return NULL;
    }
  d = device_from_row (st);
  sqlite3_reset (st);
  return d;
}

static GPtrArray *
sqlite_list_devices (HearthCenterTxn *txn, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_center_device_free);
  sqlite3_stmt *st = stmt (t, "SELECT " DEVICE_COLUMNS " FROM devices ORDER BY user, enrolled_at, id", error);
  int rc;

  if (st == NULL)
    return NULL;
  while ((rc = step (t, st, error)) == SQLITE_ROW)
    g_ptr_array_add (list, device_from_row (st));
  sqlite3_reset (st);
  return rc < 0 ? NULL : g_steal_pointer (&list);
}

static gboolean
sqlite_save_device (HearthCenterTxn *txn, const HearthCenterDevice *d, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "UPDATE devices SET revoked_at = ?, last_seen_at = ?, acked_seq = ?, clamp_floor = ?, "
                              "audit_seq = ?, audit_hash = ?, audit_broken = ? WHERE id = ?", error);

  if (st == NULL)
    return FALSE;
  bind_time (st, 1, d->revoked_at);
  bind_time (st, 2, d->last_seen_at);
  sqlite3_bind_int64 (st, 3, d->acked_seq);
  bind_text (st, 4, d->clamp_floor);
  sqlite3_bind_int64 (st, 5, d->audit_seq);
  bind_text (st, 6, d->audit_hash);
  bind_text (st, 7, d->audit_broken);
  bind_text (st, 8, d->id);
  if (!run (t, st, error))
    return FALSE;
  if (sqlite3_changes (t->conn->db) != 1)
    return not_found (error, _("no such device"));
  return TRUE;
}

static gboolean
sqlite_add_nonce (HearthCenterTxn *txn, const char *device_id, const char *nonce, gint64 now, gint64 keep_ms,
                  GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (t->parent.store);
  sqlite3_stmt *st;

  /* A writer holds write_lock: nonces_swept_at is its own. A clock set
   * back sweeps at once. A transaction rolled back leaves its old
   * nonces to the next sweep. */
  if (now < self->nonces_swept_at || now - self->nonces_swept_at >= NONCE_SWEEP_MS)
    {
      st = stmt (t, "DELETE FROM nonces WHERE seen_at < ?", error);
      if (st == NULL)
        return FALSE;
      sqlite3_bind_int64 (st, 1, now - keep_ms);
      if (!run (t, st, error))
        return FALSE;
      self->nonces_swept_at = now;
    }
  st = stmt (t, "INSERT INTO nonces (device_id, nonce, seen_at) VALUES (?, ?, ?)", error);
  if (st == NULL)
    return FALSE;
  bind_text (st, 1, device_id);
  bind_text (st, 2, nonce);
  sqlite3_bind_int64 (st, 3, now);
  return run (t, st, error);
}

static int
sqlite_nonce_seen (HearthCenterTxn *txn, const char *device_id, const char *nonce, gint64 since, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "SELECT 1 FROM nonces WHERE device_id = ? AND nonce = ? AND seen_at >= ?", error);
  int rc;

  if (st == NULL)
    return -1;
  bind_text (st, 1, device_id);
  bind_text (st, 2, nonce);
  sqlite3_bind_int64 (st, 3, since);
  rc = step (t, st, error);
  sqlite3_reset (st);
  return rc < 0 ? -1 : rc == SQLITE_ROW;
}

/* ---- outcomes --------------------------------------------------------------------- */

/* The number of device @id in the change log (0022-device-number.sql) in
 * *@num: given it here, the next number, when @give and it has none
 * (its first change stored), else -1 when it has none. The
 * transaction's last device is remembered (numbered_id). FALSE with
 * @error when a statement failed. */
static gboolean
device_number (SqliteTxn *t, const char *id, gboolean give, gint64 *num, GError **error)
{
  sqlite3_stmt *st;
  int rc;

  if (t->numbered_id != NULL && strcmp (t->numbered_id, id) == 0)
    {
      *num = t->numbered;
      return TRUE;
    }
  st = stmt (t, "SELECT num FROM device_numbers WHERE id = ?", error);
  if (st == NULL)
    return FALSE;
  bind_borrowed (st, 1, id);
  if ((rc = step (t, st, error)) < 0)
    return FALSE;
  *num = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : -1;
  sqlite3_reset (st);
  if (*num < 0 && give)
    {
      st = stmt (t, "INSERT INTO device_numbers (id) VALUES (?)", error);
      if (st == NULL)
        return FALSE;
      bind_borrowed (st, 1, id);
      if (!run (t, st, error))
        return FALSE;
      *num = sqlite3_last_insert_rowid (t->conn->db);
    }
  if (*num < 0)
    return TRUE;
  g_free (t->numbered_id);
  t->numbered_id = g_strdup (id);
  t->numbered = *num;
  return TRUE;
}

static gboolean
sqlite_get_outcome (HearthCenterTxn *txn, const char *device_id, gint64 seq, HearthCenterOutcome *out,
                    GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "SELECT cursor, code, message, original_hlc, clamped_hlc, digest FROM push_outcomes "
                              "WHERE device_id = ? AND seq = ?", error);
  int rc;

  memset (out, 0, sizeof *out);
  if (st == NULL)
    return FALSE;
  bind_text (st, 1, device_id);
  sqlite3_bind_int64 (st, 2, seq);
  if ((rc = step (t, st, error)) < 0)
    return FALSE;
  if (rc == SQLITE_DONE)
    {
      gint64 num;

      /* Stored as pushed: the change is its own outcome. */
      sqlite3_reset (st);
      if (!device_number (t, device_id, FALSE, &num, error))
        return FALSE;
      st = stmt (t, "SELECT cursor, digest FROM changes WHERE device = ? AND seq = ?", error);
      if (st == NULL)
        return FALSE;
      sqlite3_bind_int64 (st, 1, num);
      sqlite3_bind_int64 (st, 2, seq);
      if ((rc = step (t, st, error)) < 0)
        return FALSE;
      if (rc == SQLITE_DONE)
        return not_found (error, _("no outcome recorded for that change"));
      out->seq = seq;
      out->cursor = sqlite3_column_int64 (st, 0);
      out->digest = column_text (st, 1);
      sqlite3_reset (st);
      return TRUE;
    }
  out->seq = seq;
  out->cursor = sqlite3_column_int64 (st, 0);
  out->code = column_text (st, 1);
  out->message = column_text (st, 2);
  out->original_hlc = column_text (st, 3);
  out->clamped_hlc = column_text (st, 4);
  out->digest = column_text (st, 5);
  sqlite3_reset (st);
  return TRUE;
}

static gboolean
sqlite_add_outcome (HearthCenterTxn *txn, const char *device_id, const HearthCenterOutcome *o, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "INSERT INTO push_outcomes (device_id, seq, cursor, code, message, original_hlc, "
                              "clamped_hlc, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);

  if (st == NULL)
    return FALSE;
  bind_text (st, 1, device_id);
  sqlite3_bind_int64 (st, 2, o->seq);
  bind_time (st, 3, o->cursor);
  bind_text (st, 4, o->code);
  bind_text (st, 5, o->message);
  bind_text (st, 6, o->original_hlc);
  bind_text (st, 7, o->clamped_hlc);
  bind_text (st, 8, o->digest);
  return run (t, st, error);
}

static char *
sqlite_find_clamped (HearthCenterTxn *txn, const char *device_id, const char *original_hlc, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  /* Without the partial index SQLite walks every outcome of the device
   * (its primary key), once per parent of every edit pushed. */
  sqlite3_stmt *st = stmt (t, "SELECT clamped_hlc FROM push_outcomes INDEXED BY push_outcomes_clamped "
                              "WHERE device_id = ? AND original_hlc = ?", error);
  char *found = NULL;
  int rc;

  if (st == NULL)
    return NULL;
  bind_text (st, 1, device_id);
  bind_text (st, 2, original_hlc);
  if ((rc = step (t, st, error)) == SQLITE_ROW)
    found = column_text (st, 0);
  sqlite3_reset (st);
  return found;
}

/* ---- changes ---------------------------------------------------------------------- */

/* Whether version @v needs no escape in JSON: versions as devices make
 * them (digits, letters, '-', '_', '.', ':'). */
static gboolean
version_is_plain (const char *v, gsize *len)
{
  const char *p = v;

  for (; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.' && *p != ':')
      return FALSE;
  *len = (gsize) (p - v);
  return TRUE;
}

/* Appends @parents as a JSON array, as json-glib writes it. */
static void
append_parents_json (GString *out, const GPtrArray *parents)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonArray) array = NULL;
  g_autofree char *text = NULL;
  gsize start = out->len;

  /* Versions as devices make them need no escape: written directly, as
   * json-glib writes them (a node, an array and the generator for each
   * edit cost more than the array's text), without printf. */
  g_string_append_c (out, '[');
  for (guint i = 0; parents != NULL && i < parents->len; i++)
    {
      const char *v = parents->pdata[i];
      gsize len;

      if (!version_is_plain (v, &len))
        {
          g_string_truncate (out, start);
          goto escaped;
        }
      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, '"');
      append_bytes (out, v, len);
      g_string_append_c (out, '"');
    }
  g_string_append_c (out, ']');
  return;

escaped:
  node = json_node_new (JSON_NODE_ARRAY);
  array = json_array_new ();
  for (guint i = 0; parents != NULL && i < parents->len; i++)
    json_array_add_string_element (array, parents->pdata[i]);
  json_node_set_array (node, array);
  text = json_to_string (node, FALSE);
  g_string_append (out, text);
}

static char *
parents_json (const GPtrArray *parents)
{
  GString *out = g_string_sized_new (parents != NULL ? 64 * parents->len + 2 : 2);

  append_parents_json (out, parents);
  return g_string_free (out, FALSE);
}

static char *
parents_to_json (const HearthChange *c)
{
  return parents_json (c->parents);
}

/* changes.fields of a row of kind 'edits' (0013-grouped-edits.sql): a
 * member per field, in field order, [value, parents], written as
 * append_change_json() writes an edit's value and parents, so that a
 * pull copies them as they are (edits_next()). */
static char *
edits_to_json (const HearthChange *c)
{
  GString *out = g_string_sized_new (128 * c->edits->len);

  g_string_append_c (out, '{');
  for (guint i = 0; i < c->edits->len; i++)
    {
      const HearthChangeField *e = c->edits->pdata[i];

      if (i > 0)
        g_string_append_c (out, ',');
      append_json_string (out, e->field);
      append_bytes (out, ":[", 2);
      append_json_string (out, e->value != NULL ? e->value : "");
      g_string_append_c (out, ',');
      append_parents_json (out, e->parents);
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

/* One field of a row of kind 'edits' as stored (edits_to_json()):
 * slices of its text, not terminated. */
typedef struct {
  const char *name;      /* the field's name (names need no escape) */
  gsize name_len;
  const char *value;     /* its value as a JSON string, quotes included */
  gsize value_len;
  const char *parents;   /* its parents as a JSON array */
  gsize parents_len;
} EditsMember;

/* The end of the JSON string at @p (a quote): just after its closing
 * quote, or %NULL when it has none. */
static const char *
json_string_end (const char *p)
{
  for (p++; *p != '\0'; p++)
    {
      if (*p == '\\')
        {
          if (p[1] == '\0')
            return NULL;
          p++;
        }
      else if (*p == '"')
        return p + 1;
    }
  return NULL;
}

/* Reads the next field of the text at *@at (changes.fields of an 'edits'
 * row, from its start) into @m and moves *@at past it. %FALSE at the end,
 * or at text this file did not write (damage: the rest is passed over). */
static gboolean
edits_next (const char **at, EditsMember *m)
{
  const char *p = *at, *end;

  if (p == NULL)
    return FALSE;
  if (*p == '{' || *p == ',')
    p++;
  if (*p != '"' || (end = json_string_end (p)) == NULL)
    return FALSE;
  m->name = p + 1;
  m->name_len = (gsize) (end - p - 2);
  p = end;
  if (p[0] != ':' || p[1] != '[' || p[2] != '"' || (end = json_string_end (p + 2)) == NULL)
    return FALSE;
  m->value = p + 2;
  m->value_len = (gsize) (end - m->value);
  p = end;
  if (p[0] != ',' || p[1] != '[')
    return FALSE;
  m->parents = ++p;
  for (p++; *p != ']';)
    {
      if (*p == '"')
        {
          if ((p = json_string_end (p)) == NULL)
            return FALSE;
        }
      else if (*p == ',')
        p++;
      else
        return FALSE;
    }
  p++;
  m->parents_len = (gsize) (p - m->parents);
  if (*p != ']')
    return FALSE;
  *at = p + 1;
  return TRUE;
}

static char *
fields_to_json (const HearthChange *c)
{
  GString *text = g_string_new (NULL);

  hearth_change_append_fields_json (c, text);
  return g_string_free (text, FALSE);
}

/* The fields of the record row at @st, column @col, as JSON text: the
 * column's text, or its packed form unpacked into *@owned
 * (0019-packed-fields.sql). %NULL when the row has none, or when they do
 * not unpack (damage, logged with the row's cursor in column 0, and read
 * as a record without fields, as damaged text is). */
static const char *
column_fields (sqlite3_stmt *st, int col, char **owned)
{
  g_autoptr(GError) local = NULL;

  if (sqlite3_column_type (st, col) != SQLITE_BLOB)
    return (const char *) sqlite3_column_text (st, col);
  *owned = hearth_center_fields_unpack (sqlite3_column_blob (st, col), (gsize) sqlite3_column_bytes (st, col), &local);
  if (*owned == NULL)
    g_warning ("change %" G_GINT64_FORMAT ": %s", (gint64) sqlite3_column_int64 (st, 0), local->message);
  return *owned;
}

/* A change from a row of CHANGE_COLUMNS; the JSON columns were written by
 * this file, so a failure to read them is damage, reported as a record
 * without them. */
static HearthChange *
change_from_row (sqlite3_stmt *st)
{
  const char *kind = (const char *) sqlite3_column_text (st, 1);
  HearthChange *c = hearth_change_new (g_strcmp0 (kind, "edit") == 0 ? HEARTH_CHANGE_EDIT : HEARTH_CHANGE_RECORD);
  /* Made only when there is JSON to read: most edits have no parents, and
   * a pull page or a field's edit set reads thousands of rows. */
  g_autoptr(JsonParser) parser = NULL;

  c->cursor = sqlite3_column_int64 (st, 0);
  c->table = column_text (st, 2);
  c->id = column_text (st, 3);
  c->household = column_text (st, 7);
  c->village = column_text (st, 8);
  if (c->kind == HEARTH_CHANGE_EDIT)
    {
      const char *parents = (const char *) sqlite3_column_text (st, 6);

      c->field = column_text (st, 4);
      c->hlc = column_text (st, 5);
      c->value = column_text (st, 9);
      c->wall = column_text (st, 11);
      if (parents != NULL && strcmp (parents, "[]") != 0 && (parser = json_parser_new ()) != NULL &&
          json_parser_load_from_data (parser, parents, -1, NULL) &&
          JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)))
        {
          JsonArray *a = json_node_get_array (json_parser_get_root (parser));
          for (guint i = 0; i < json_array_get_length (a); i++)
            g_ptr_array_add (c->parents, g_strdup (json_array_get_string_element (a, i)));
        }
    }
  else
    {
      g_autofree char *owned = NULL;
      const char *fields = column_fields (st, 10, &owned);

      if (fields != NULL && (parser = json_parser_new ()) != NULL && json_parser_load_from_data (parser, fields, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          JsonObjectIter iter;
          const char *name;
          JsonNode *value;

          json_object_iter_init (&iter, json_node_get_object (json_parser_get_root (parser)));
          while (json_object_iter_next (&iter, &name, &value))
            g_hash_table_insert (c->fields, g_strdup (name), g_strdup (json_node_get_string (value)));
        }
    }
  return c;
}

static HearthChange *
find_one_change (SqliteTxn *t, sqlite3_stmt *st, GError **error)
{
  HearthChange *found = NULL;
  int rc;

  if ((rc = step (t, st, error)) == SQLITE_ROW)
    found = change_from_row (st);
  sqlite3_reset (st);
  return found;
}

static HearthChange *
sqlite_find_record (HearthCenterTxn *txn, const char *table, const char *id, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  GError *local = NULL;
  HearthChange *found;
  gint64 key;
  gsize table_size, id_size;

  t->record_absent = FALSE;
  key = txn_record_key (t, table, id);
  /* A record new to the center (the writer's filter: no look-up, nor
   * its statement fetched). */
  if (writer_filters (t) &&
      !key_filter_may_hold (HEARTH_CENTER_STORE_SQLITE (t->parent.store)->record_keys, (guint64) key))
    found = NULL;
  else
    {
      /* By its identity's key (0017-record-identity-key.sql). */
      sqlite3_stmt *st = stmt (t, "SELECT " CHANGE_COLUMNS " FROM changes INDEXED BY changes_record_key "
                                  "WHERE " BOUND_RECORD_ROW_IS, error);

      if (st == NULL)
        return NULL;
      bind_borrowed (st, 1, table);
      bind_borrowed (st, 2, id);
      sqlite3_bind_int64 (st, 3, key);
      found = find_one_change (t, st, &local);
    }
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }
  /* Remembered for sqlite_add_change(), which stores it next (a name
   * longer than a table's or a UUID is looked up again there). */
  table_size = strlen (table) + 1;
  id_size = strlen (id) + 1;
  if (found == NULL && table_size <= sizeof t->absent_table && id_size <= sizeof t->absent_id)
    {
      memcpy (t->absent_table, table, table_size);
      memcpy (t->absent_id, id, id_size);
      t->record_absent_key = key;
      t->record_absent = TRUE;
    }
  return found;
}

/* An edit's identity (?1, ?2, ?3, ?4) = (tbl, record_id, field, hlc) is
 * stored either as a row of kind 'edit' under the field's key, or as a
 * field of a row of kind 'edits' under the record's key
 * (0013-grouped-edits.sql): the statements below look under both. */
#define EDIT_ROW_IDENTITY \
  "ikey = " RECORD_KEY ("?1", "?2", "?3") " AND vkey = hearth_version_key (?4) AND kind = 'edit' " \
  "AND tbl = ?1 AND record_id = ?2 AND field = ?3 AND hlc = ?4"
#define EDITS_ROW_IDENTITY \
  "ikey = " RECORD_KEY ("?1", "?2", "NULL") " AND vkey = hearth_version_key (?4) AND kind = 'edits' " \
  "AND tbl = ?1 AND record_id = ?2 AND hlc = ?4 AND fields -> ?3 IS NOT NULL"
/* The rows of kind 'edits' of the record (?1, ?2). */
#define EDITS_ROWS_WHERE \
  "INDEXED BY changes_by_key WHERE ikey = " RECORD_KEY ("?1", "?2", "NULL") " AND kind = 'edits' AND tbl = ?1 " \
  "AND record_id = ?2 AND "
/* The same with the keys bound (bind_edit_keys ()): ?5 the field's key,
 * ?6 the record's, ?7 the version's, computed once for a statement
 * rather than by a subquery of record_state and three hashes in each
 * part of it. */
#define BOUND_EDIT_ROW_IDENTITY \
  "ikey = ?5 AND vkey = ?7 AND kind = 'edit' AND tbl = ?1 AND record_id = ?2 AND field = ?3 AND hlc = ?4"
#define BOUND_EDITS_ROW_IDENTITY \
  "ikey = ?6 AND vkey = ?7 AND kind = 'edits' AND tbl = ?1 AND record_id = ?2 AND hlc = ?4 " \
  "AND fields -> ?3 IS NOT NULL"
#define BOUND_EDITS_ROWS_WHERE \
  "INDEXED BY changes_by_key WHERE ikey = ?6 AND kind = 'edits' AND tbl = ?1 AND record_id = ?2 AND "

/* Binds (?1, ?2, ?3, ?4) = (@table, @id, @field, @hlc) of @st and the
 * keys the BOUND_ statements look under: ?5 RECORD_KEY (?1, ?2, ?3), ?6
 * RECORD_KEY (?1, ?2, NULL), ?7 hearth_version_key (?4). The record's
 * number comes from the transaction's states (record_state_get(), read
 * once a push: the push merges the record's edits there anyway); a record
 * without a number has no edit stored, and both keys are NULL, as the
 * subquery of RECORD_KEY gave. %FALSE with @error set when the store
 * fails. */
static gboolean
bind_edit_keys (SqliteTxn *t, sqlite3_stmt *st, const char *table, const char *id, const char *field,
                const char *hlc, GError **error)
{
  gint64 rkey;

  if (!state_number (t, table, id, &rkey, error))
    return FALSE;
  bind_borrowed (st, 1, table);
  bind_borrowed (st, 2, id);
  bind_borrowed (st, 3, field);
  bind_borrowed (st, 4, hlc);
  if (rkey != 0)
    {
      sqlite3_bind_int64 (st, 5, rkey * 65536 + field_bits (field, field != NULL ? strlen (field) : 0));
      sqlite3_bind_int64 (st, 6, rkey * 65536);
    }
  else
    {
      sqlite3_bind_null (st, 5);
      sqlite3_bind_null (st, 6);
    }
  if (hlc != NULL)
    sqlite3_bind_int64 (st, 7, version_bits (hlc, strlen (hlc)));
  else
    sqlite3_bind_null (st, 7);
  return TRUE;
}

static HearthChange *
sqlite_find_edit (HearthCenterTxn *txn, const char *table, const char *id, const char *field, const char *hlc,
                  GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  /* A field of an 'edits' row as the edit it holds (change_from_row()). */
  sqlite3_stmt *st = stmt (t, "SELECT " CHANGE_COLUMNS " FROM changes INDEXED BY changes_by_key WHERE "
                              BOUND_EDIT_ROW_IDENTITY " UNION ALL SELECT cursor, 'edit', tbl, record_id, ?3, hlc, "
                              "fields -> ?3 ->> 1, household, village, fields -> ?3 ->> 0, NULL, wall "
                              "FROM changes INDEXED BY changes_by_key WHERE " BOUND_EDITS_ROW_IDENTITY " LIMIT 1",
                           error);

  HearthChange *found;
  GError *local = NULL;

  g_clear_pointer (&t->edit_absent, g_free);
  if (st == NULL || !bind_edit_keys (t, st, table, id, field, hlc, error))
    return NULL;
  found = find_one_change (t, st, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }
  /* Remembered for sqlite_edit_named(), which a push asks next. */
  if (found == NULL)
    t->edit_absent = held_key (table, id, field, hlc);
  return found;
}

static int
sqlite_edit_named (HearthCenterTxn *txn, const char *table, const char *id, const char *field, const char *hlc,
                   GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  /* A stored edit names a version the center holds (then it is found by
   * its identity) or one it does not (then it is in field_dangling). */
  sqlite3_stmt *st = stmt (t, "SELECT 1 FROM field_dangling WHERE tbl = ?1 AND record_id = ?2 AND field = ?3 "
                              "AND hlc = ?4 UNION ALL SELECT 1 WHERE (EXISTS (SELECT 1 FROM changes "
                              "INDEXED BY changes_by_key WHERE " BOUND_EDIT_ROW_IDENTITY ") OR EXISTS (SELECT 1 "
                              "FROM changes INDEXED BY changes_by_key WHERE " BOUND_EDITS_ROW_IDENTITY ")) "
                              "AND (EXISTS (SELECT 1 FROM changes n INDEXED BY changes_by_key "
                              "WHERE n.ikey = ?5 AND n.kind = 'edit' AND n.tbl = ?1 "
                              "AND n.record_id = ?2 AND n.field = ?3 AND instr (n.parents, '\"' || ?4 || '\"') > 0) "
                              "OR EXISTS (SELECT 1 FROM changes n " BOUND_EDITS_ROWS_WHERE
                              "instr (n.fields, '\"' || ?4 || '\"') > 0 "
                              "AND instr (n.fields -> ?3 ->> 1, '\"' || ?4 || '\"') > 0)) LIMIT 1", error);
  g_autofree char *key = NULL;
  int rc;

  /* An edit that sqlite_find_edit() just did not find is no version the
   * center holds: only field_dangling can name it. A push asks both of
   * each new edit of a field the center holds. */
  if (t->edit_absent != NULL && strcmp (t->edit_absent, key = held_key (table, id, field, hlc)) == 0)
    {
      st = stmt (t, "SELECT 1 FROM field_dangling WHERE tbl = ?1 AND record_id = ?2 AND field = ?3 AND hlc = ?4",
                 error);
      if (st == NULL)
        return -1;
      bind_borrowed (st, 1, table);
      bind_borrowed (st, 2, id);
      bind_borrowed (st, 3, field);
      bind_borrowed (st, 4, hlc);
    }
  else if (st == NULL || !bind_edit_keys (t, st, table, id, field, hlc, error))
    return -1;
  rc = step (t, st, error);
  sqlite3_reset (st);
  return rc < 0 ? -1 : rc == SQLITE_ROW;
}

/* Remembers the parents of an edit of (@table, @id, @field) that the
 * center does not hold (field_dangling): an edit under one of those
 * versions would arrive after an edit naming it. */
/* The stored edits a transaction remembers at most (SqliteTxn.held). */
#define HELD_KEPT 16384

/* The key of an edit in SqliteTxn.held. (transfer full) */
static char *
held_key (const char *table, const char *id, const char *field, const char *hlc)
{
  return g_strjoin ("\n", table, id, field, hlc, NULL);
}

/* Remembers that the edit (@table, @id, @field, @hlc) is stored. */
static void
held_add (SqliteTxn *t, const char *table, const char *id, const char *field, const char *hlc)
{
  /* A group's transaction: a push's edits at most, most often. */
  if (t->held == NULL || g_hash_table_size (t->held) >= HELD_KEPT)
    {
      g_clear_pointer (&t->held, g_hash_table_unref);
      t->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    }
  g_hash_table_add (t->held, held_key (table, id, field, hlc));
}

static gboolean
add_dangling (SqliteTxn *t, const char *table, const char *id, const char *field, const GPtrArray *parents,
              GError **error)
{
  for (guint i = 0; parents != NULL && i < parents->len; i++)
    {
      g_autofree char *key = t->held != NULL ? held_key (table, id, field, parents->pdata[i]) : NULL;
      sqlite3_stmt *st;

      if (key != NULL && g_hash_table_contains (t->held, key))
        continue;
      st = stmt (t, "INSERT OR IGNORE INTO field_dangling (tbl, record_id, field, hlc) "
                                  "SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM changes "
                                  "INDEXED BY changes_by_key WHERE " BOUND_EDIT_ROW_IDENTITY ") AND NOT EXISTS "
                                  "(SELECT 1 FROM changes INDEXED BY changes_by_key WHERE " BOUND_EDITS_ROW_IDENTITY
                                  ")", error);

      if (st == NULL || !bind_edit_keys (t, st, table, id, field, parents->pdata[i], error))
        return FALSE;
      if (!run (t, st, error))
        return FALSE;
    }
  return TRUE;
}

/* What sqlite_add_change() binds of an edit or a write of several
 * fields that depends on the change alone (HearthCenterPrepared): text,
 * the parents (an edit) or fields (a write) as stored; keys[0], its
 * version's key (vkey); keys[1], an edit's field's bits of ikey.
 * Records: nothing (their fields are packed by the caller already, and
 * their key is found before, sqlite_find_record()). */
static HearthCenterPrepared *
sqlite_prepare_change (HearthCenterStore *store, const HearthChange *c)
{
  HearthCenterPrepared *prepared;

  if (c->table == NULL || c->id == NULL)
    return NULL;
  /* Any change: the key of its record's identity (keys[2]). */
  if ((c->kind != HEARTH_CHANGE_EDIT && c->kind != HEARTH_CHANGE_EDITS) || c->hlc == NULL ||
      (c->kind == HEARTH_CHANGE_EDITS && (c->edits == NULL || c->edits->len == 0)) ||
      (c->kind == HEARTH_CHANGE_EDIT && c->field == NULL))
    {
      prepared = g_new0 (HearthCenterPrepared, 1);
      prepared->keys[2] = record_key (c->table, c->id);
      return prepared;
    }
  prepared = g_new0 (HearthCenterPrepared, 1);
  prepared->keys[2] = record_key (c->table, c->id);
  prepared->text = c->kind == HEARTH_CHANGE_EDIT ? parents_to_json (c) : edits_to_json (c);
  prepared->keys[0] = version_bits (c->hlc, strlen (c->hlc));
  prepared->keys[1] = c->kind == HEARTH_CHANGE_EDIT ? field_bits (c->field, strlen (c->field)) : 0;
  return prepared;
}

/* Keeps the key of @c's record's identity that @prepared holds
 * (txn_record_key()). */
static void
sqlite_note_prepared (HearthCenterTxn *txn, const HearthChange *c, const HearthCenterPrepared *prepared)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  gsize table_size, id_size;

  t->known = FALSE;
  if (prepared == NULL || c->table == NULL || c->id == NULL)
    return;
  table_size = strlen (c->table) + 1;
  id_size = strlen (c->id) + 1;
  /* A name longer than a table's or a UUID: its key is computed again. */
  if (table_size > sizeof t->known_table || id_size > sizeof t->known_id)
    return;
  memcpy (t->known_table, c->table, table_size);
  memcpy (t->known_id, c->id, id_size);
  t->known_key = prepared->keys[2];
  t->known = TRUE;
}

/* The INSERT of a change of one kind (sqlite_add_change()): @kind and
 * the values of the columns that differ between kinds, a parameter or
 * NULL; the others are ?1 to ?17 in the order of the columns. A string
 * literal, one for each kind (stmt() keeps statements by address). */
#define INSERT_CHANGE(kind, field, hlc, parents, value, fields, wall, ikey) \
  "INSERT INTO changes (device, seq, kind, tbl, record_id, field, hlc, parents, household, village, value, " \
  "fields, wall, received_at, digest, ikey, vkey) VALUES (?1, ?2, " kind ", ?4, ?5, " field ", " hlc ", " \
  parents ", ?9, ?10, " value ", " fields ", " wall ", ?14, ?15, " ikey ", ?17)"

/* Whether @table holds published records (forms, thresholds,
 * divisions): for every device, found through published_cursors. */
static gboolean
is_published_table (const char *table)
{
  return strcmp (table, "forms") == 0 || strcmp (table, "thresholds") == 0 || strcmp (table, "divisions") == 0;
}

static gint64
sqlite_add_change (HearthCenterTxn *txn, const char *device_id, gint64 seq, const HearthChange *c,
                   const HearthCenterPrepared *prepared, const char *digest, GBytes *fields, gint64 now,
                   GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st;
  gboolean edit = c->kind == HEARTH_CHANGE_EDIT;
  gboolean edits = c->kind == HEARTH_CHANGE_EDITS;
  g_autofree char *json = NULL;
  const char *text = NULL;
  g_autoptr(GBytes) packed = NULL;
  gint64 cursor, device, rkey = 0, vkey = 0;

  if (edits && (c->edits == NULL || c->edits->len == 0))
    {
      g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                   "a write of %s record %s without a field cannot be stored", c->table, c->id);
      return 0;
    }
  /* An edit's key holds its record's number, given here at its first
   * edit: the next one, so that the keys of new records, and their
   * states, are stored side by side (0015-record-number.sql). The state
   * is set when the push merges the edit (states_flush()). */
  if ((edit || edits) && (rkey = record_number (t, c->table, c->id, error)) == 0)
    return 0;
  /* An immutable record is stored once (what changes_record_identity
   * refused before 0017-record-identity-key.sql), looked up here unless
   * the transaction's last sqlite_find_record() did not find it (a push
   * asks before it stores one). */
  if (!edit && !edits)
    {
      gboolean known_absent = t->record_absent && strcmp (c->id, t->absent_id) == 0 &&
                              strcmp (c->table, t->absent_table) == 0;

      vkey = known_absent ? t->record_absent_key : txn_record_key (t, c->table, c->id);
      t->record_absent = FALSE;
      if (!known_absent)
        {
          GError *local = NULL;
          g_autoptr(HearthChange) found = sqlite_find_record (txn, c->table, c->id, &local);

          t->record_absent = FALSE;
          if (local != NULL)
            {
              g_propagate_error (error, local);
              return 0;
            }
          if (found != NULL)
            {
              g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_EXISTS,
                           "%s record %s is stored already", c->table, c->id);
              return 0;
            }
        }
    }
  /* A record's row is keyed by its identity's key in vkey, an edit's by
   * its record's number and field in ikey and its version's key in
   * vkey. */
  if (!device_number (t, device_id, TRUE, &device, error))
    return 0;
  /* A statement for each kind, the columns its kind leaves NULL (and
   * the kind) written in it rather than bound: some 700 instructions a
   * change less than one statement with every column bound. Every
   * parameter of each is bound below, NULL included (stmt_rebound()). */
  st = stmt_rebound (t, edit ? INSERT_CHANGE ("'edit'", "?6", "?7", "?8", "?11", "NULL", "?13", "?16")
                        : edits ? INSERT_CHANGE ("'edits'", "NULL", "?7", "NULL", "NULL", "?12", "?13", "?16")
                        : INSERT_CHANGE ("'record'", "NULL", "NULL", "NULL", "NULL", "?12", "NULL", "NULL"),
                     error);
  if (st == NULL)
    return 0;
  /* What was prepared of an edit or a write: its text and keys (a
   * record's prepared holds its identity's key alone). */
  if (prepared != NULL && ((!edit && !edits) || prepared->text == NULL))
    prepared = NULL;
  if ((edit || edits) && prepared != NULL)
    text = prepared->text;
  else if (edit)
    text = json = parents_to_json (c);
  else if (edits)
    text = json = edits_to_json (c);
  else if (fields == NULL)
    {
      json = fields_to_json (c);
      fields = packed = hearth_center_fields_pack (json, strlen (json));
    }
  sqlite3_bind_int64 (st, 1, device);
  sqlite3_bind_int64 (st, 2, seq);
  bind_borrowed (st, 4, c->table);
  bind_borrowed (st, 5, c->id);
  bind_borrowed (st, 9, c->household);
  bind_borrowed (st, 10, c->village);
  sqlite3_bind_int64 (st, 14, now);
  bind_borrowed (st, 15, digest);
  if (edit)
    {
      bind_borrowed (st, 6, c->field);
      bind_borrowed (st, 8, text);
      bind_borrowed (st, 11, c->value != NULL ? c->value : "");
    }
  if (edit || edits)
    {
      bind_borrowed (st, 7, c->hlc);
      bind_borrowed (st, 13, c->wall);
      if (edits)
        bind_borrowed (st, 12, text);
      if (prepared != NULL)
        sqlite3_bind_int64 (st, 16, rkey * 65536 + prepared->keys[1]);
      else
        sqlite3_bind_int64 (st, 16, rkey * 65536 + (edit && c->field != NULL ? field_bits (c->field, strlen (c->field)) : 0));
    }
  else
    {
      gsize len;
      const char *data = g_bytes_get_data (fields, &len);

      /* Packed, or the text (hearth_center_fields_pack()). */
      if (len > 0 && data[0] != '{')
        sqlite3_bind_blob64 (st, 12, data, len, SQLITE_STATIC);
      else
        sqlite3_bind_text64 (st, 12, data, len, SQLITE_STATIC, SQLITE_UTF8);
    }
  /* hearth_record_key (tbl, record_id) for a record, hearth_version_key
   * (hlc) for an edit, computed here (a version is never NULL: the push
   * parser requires it). */
  if (!edit && !edits)
    sqlite3_bind_int64 (st, 17, vkey);
  else if (prepared != NULL)
    sqlite3_bind_int64 (st, 17, prepared->keys[0]);
  else if (c->hlc != NULL)
    sqlite3_bind_int64 (st, 17, version_bits (c->hlc, strlen (c->hlc)));
  else
    sqlite3_bind_null (st, 17);
  if (!run (t, st, error))
    return 0;
  if (!edit && !edits)
    writer_inserted (t, FALSE, (guint64) vkey);
  g_clear_pointer (&t->edit_absent, g_free);
  cursor = sqlite3_last_insert_rowid (t->conn->db);
  /* A published record's cursor, where a pull finds it
   * (0023-published-cursors.sql): in this transaction, so that it goes
   * with the row if a savepoint is undone. changes' CHECK keeps these
   * tables to the center's own records. */
  if (!edit && !edits && is_published_table (c->table))
    {
      st = stmt (t, "INSERT INTO published_cursors (cursor) VALUES (?1)", error);
      if (st == NULL)
        return 0;
      sqlite3_bind_int64 (st, 1, cursor);
      if (!run (t, st, error))
        return 0;
    }
  if (t->receipt_last == 0)
    {
      t->receipt_first = t->receipt_last = cursor;
      t->receipt_from = t->receipt_until = now;
    }
  else
    {
      t->receipt_first = MIN (t->receipt_first, cursor);
      t->receipt_last = MAX (t->receipt_last, cursor);
      t->receipt_from = MIN (t->receipt_from, now);
      t->receipt_until = MAX (t->receipt_until, now);
    }
  if (edit && !add_dangling (t, c->table, c->id, c->field, c->parents, error))
    return 0;
  for (guint i = 0; edits && i < c->edits->len; i++)
    {
      const HearthChangeField *e = c->edits->pdata[i];

      if (!add_dangling (t, c->table, c->id, e->field, e->parents, error))
        return 0;
    }
  return cursor;
}

/* ---- the keys a writer knows the store may hold ----------------------------------- */

/* A Bloom filter of 64-bit keys, each a hash already (BLAKE2b bits):
 * KEY_FILTER_PROBES bits a key, at least KEY_FILTER_BITS_A_KEY bits a
 * key held (some 0.2% of the keys absent pass, and are looked up). A
 * key added stays: a row undone (a savepoint, a rollback) only makes
 * its key pass. */
struct _KeyFilter {
  guint64 *words;
  guint64 mask;    /* (mask + 1) bits */
  guint64 count;   /* keys added */
};

#define KEY_FILTER_MIN_BITS (G_GUINT64_CONSTANT (1) << 17)
#define KEY_FILTER_BITS_A_KEY 16
#define KEY_FILTER_PROBES 4

static KeyFilter *
key_filter_new (guint64 keys)
{
  KeyFilter *f = g_new0 (KeyFilter, 1);
  guint64 bits = KEY_FILTER_MIN_BITS;

  /* Room for as many again before it is read anew (writer_filters()). */
  while (bits < keys * 2 * KEY_FILTER_BITS_A_KEY)
    bits <<= 1;
  f->words = g_new0 (guint64, bits / 64);
  f->mask = bits - 1;
  return f;
}

static void
key_filter_free (KeyFilter *f)
{
  g_free (f->words);
  g_free (f);
}

/* splitmix64's finaliser. */
static inline guint64
key_mix (guint64 x)
{
  x ^= x >> 30;
  x *= G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static void
key_filter_add (KeyFilter *f, guint64 key)
{
  guint64 h1 = key_mix (key), h2 = key_mix (key ^ G_GUINT64_CONSTANT (0x9e3779b97f4a7c15)) | 1;

  for (guint i = 0; i < KEY_FILTER_PROBES; i++)
    {
      guint64 bit = (h1 + i * h2) & f->mask;

      f->words[bit / 64] |= G_GUINT64_CONSTANT (1) << (bit % 64);
    }
  f->count++;
}

/* %FALSE: @key was never added. */
static gboolean
key_filter_may_hold (const KeyFilter *f, guint64 key)
{
  guint64 h1 = key_mix (key), h2 = key_mix (key ^ G_GUINT64_CONSTANT (0x9e3779b97f4a7c15)) | 1;

  for (guint i = 0; i < KEY_FILTER_PROBES; i++)
    {
      guint64 bit = (h1 + i * h2) & f->mask;

      if ((f->words[bit / 64] & (G_GUINT64_CONSTANT (1) << (bit % 64))) == 0)
        return FALSE;
    }
  return TRUE;
}

/* Whether @f is past the keys it was sized for. */
static gboolean
key_filter_full (const KeyFilter *f)
{
  return f->count > (f->mask + 1) / KEY_FILTER_BITS_A_KEY;
}

/* A filter of the keys @sql reads (one integer column), or NULL when
 * the statement fails. */
static KeyFilter *
key_filter_read (SqliteTxn *t, const char *sql)
{
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (guint64));
  sqlite3_stmt *st = stmt (t, sql, NULL);
  KeyFilter *f;
  int rc;

  if (st == NULL)
    return NULL;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      guint64 key = (guint64) sqlite3_column_int64 (st, 0);

      g_array_append_val (keys, key);
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return NULL;
  f = key_filter_new (keys->len);
  for (guint i = 0; i < keys->len; i++)
    key_filter_add (f, g_array_index (keys, guint64, i));
  return f;
}

/* A reading of the filters off the writer's turn (writer_filters()). */
struct _FilterBuild {
  HearthCenterStoreSqlite *self;   /* not a reference: finalize() joins the thread first */
  gint64 version;                  /* the writers' data_version it is read for */
  guint gen;                       /* and their connection's generation */
  KeyFilter *state_keys, *record_keys;   /* NULL: the reading failed */
  gint done;                       /* (atomic) */
};

static void
filter_build_free (FilterBuild *b)
{
  g_clear_pointer (&b->state_keys, key_filter_free);
  g_clear_pointer (&b->record_keys, key_filter_free);
  g_free (b);
}

/* The thread of a FilterBuild: every key of record_state and of the
 * records of changes, read in a snapshot of its own through a
 * connection of the pool (not durable yet, maybe: a key too many is
 * only a look-up made). */
static gpointer
filter_build_main (gpointer data)
{
  FilterBuild *b = data;
  HearthCenterStoreSqlite *self = b->self;
  SqliteTxn t = { 0 };
  Conn *conn = NULL;

  g_mutex_lock (&self->lock);
  if (self->idle->len > 0)
    conn = g_ptr_array_steal_index_fast (self->idle, self->idle->len - 1);
  g_mutex_unlock (&self->lock);
  if (conn == NULL)
    conn = conn_open (self, self->path, NULL);
  if (conn != NULL && sqlite3_exec (conn->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
    {
      t.conn = conn;
      b->state_keys = key_filter_read (&t, "SELECT idkey FROM record_state INDEXED BY record_state_by_id");
      /* Its snapshot began with that read. */
      g_mutex_lock (&self->filter_hold_lock);
      self->filter_held = TRUE;
      g_cond_broadcast (&self->filter_hold_cond);
      while (self->filter_hold)
        g_cond_wait (&self->filter_hold_cond, &self->filter_hold_lock);
      self->filter_held = FALSE;
      g_mutex_unlock (&self->filter_hold_lock);
      if (b->state_keys != NULL)
        b->record_keys = key_filter_read (&t, "SELECT vkey FROM changes INDEXED BY changes_record_key "
                                              "WHERE kind = 'record'");
      if (b->record_keys == NULL)
        g_clear_pointer (&b->state_keys, key_filter_free);
      sqlite3_exec (conn->db, "ROLLBACK", NULL, NULL, NULL);
    }
  if (conn != NULL && sqlite3_get_autocommit (conn->db))
    {
      g_mutex_lock (&self->lock);
      g_ptr_array_add (self->idle, conn);
      g_mutex_unlock (&self->lock);
    }
  else if (conn != NULL)
    conn_free (conn);
  g_atomic_int_set (&b->done, 1);
  return NULL;
}

/* Whether the store's key filters (state_keys, record_keys) may answer
 * for @t: a transaction of the writers' own connection, which holds the
 * writer's lock, and no other connection committed since the filters
 * were read (the connection's PRAGMA data_version, which the
 * connection's own commits leave as it is: what it inserts is added as
 * it goes, sqlite_add_change() and states_flush()). Asked as the
 * transaction first needs them, before it inserts a key
 * (writer_inserted()).
 *
 * There are none at the first push after the center starts, nor after
 * another process committed (an administrator's command: hearth-center
 * enrol-code, the bench's ingest), nor when they are full. They are
 * then read again, every key of record_state and of the records in
 * changes (their indexes: 15.4 M instructions for the 19,000 keys of
 * the bench's ingest, some 800 a key; seconds for millions), but by a
 * thread of their own (filter_build_main()), not in the writer's turn,
 * which every push waits for: until they are read the writer makes its
 * look-ups (a group or a few; in the bench's ingest its first group's
 * cost 0.4 M instructions more, not 15.4 M). Its
 * snapshot begins after this transaction did, so it holds every commit
 * of another connection the writer had seen; what the writers'
 * connection inserts from now on is kept aside (pending_state,
 * pending_record) and added to them; and a commit of another connection
 * after its snapshot began changes the writer's data_version: the
 * filters are taken only when it is still the one they were read for
 * (else read again), on the same connection. They keep 4 to 8 bytes a
 * key (KEY_FILTER_BITS_A_KEY, twice the keys read for room, rounded up
 * to a power of two). */
static gboolean
writer_filters (SqliteTxn *t)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (t->parent.store);
  sqlite3_stmt *st;
  gint64 version;

  if (t->filters != 0)
    return t->filters > 0;
  t->filters = -1;
  if (!t->write || t->conn != self->writer || (st = stmt (t, "PRAGMA data_version", NULL)) == NULL)
    return FALSE;
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      sqlite3_reset (st);
      return FALSE;
    }
  version = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  if (self->state_keys != NULL && self->record_keys != NULL && version == self->filter_version &&
      !key_filter_full (self->state_keys) && !key_filter_full (self->record_keys))
    {
      t->filters = 1;
      return TRUE;
    }
  g_clear_pointer (&self->state_keys, key_filter_free);
  g_clear_pointer (&self->record_keys, key_filter_free);
  if (self->filter_build != NULL && g_atomic_int_get (&self->filter_build->done))
    {
      g_autoptr(GArray) pending_state = g_steal_pointer (&self->pending_state);
      g_autoptr(GArray) pending_record = g_steal_pointer (&self->pending_record);
      FilterBuild *b = g_steal_pointer (&self->filter_build);

      g_thread_join (g_steal_pointer (&self->filter_thread));
      if (b->record_keys != NULL && b->version == version && b->gen == self->writer_gen &&
          pending_state != NULL && pending_record != NULL)
        {
          self->state_keys = g_steal_pointer (&b->state_keys);
          self->record_keys = g_steal_pointer (&b->record_keys);
          for (guint i = 0; i < pending_state->len; i++)
            key_filter_add (self->state_keys, g_array_index (pending_state, guint64, i));
          for (guint i = 0; i < pending_record->len; i++)
            key_filter_add (self->record_keys, g_array_index (pending_record, guint64, i));
          self->filter_version = version;
          filter_build_free (b);
          t->filters = 1;
          return TRUE;
        }
      filter_build_free (b);
    }
  /* None under way: one begins, and the keys inserted from here on are
   * kept for it. (One under way for another version goes on; it is
   * judged when done.) */
  if (self->filter_build == NULL)
    {
      FilterBuild *b = g_new0 (FilterBuild, 1);

      g_clear_pointer (&self->pending_state, g_array_unref);
      g_clear_pointer (&self->pending_record, g_array_unref);
      self->pending_state = g_array_new (FALSE, FALSE, sizeof (guint64));
      self->pending_record = g_array_new (FALSE, FALSE, sizeof (guint64));
      b->self = self;
      b->version = version;
      b->gen = self->writer_gen;
      self->filter_build = b;
      self->filter_thread = g_thread_new ("hearth-key-filters", filter_build_main, b);
    }
  return FALSE;
}

/* Adds @key, of a row @t inserted, to the writer's filter (@state:
 * record_state's, else the records'), and to the keys kept for the
 * filters being read (pending_state, pending_record): every row the
 * writers' connection inserts, asked or not (its own commits leave
 * data_version as it is). A writer of another connection changes the
 * writers' data_version when it commits. */
static void
writer_inserted (SqliteTxn *t, gboolean state, guint64 key)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (t->parent.store);
  KeyFilter *filter = state ? self->state_keys : self->record_keys;
  GArray *pending = state ? self->pending_state : self->pending_record;

  if (!t->write || t->conn != self->writer)
    return;
  /* Decided before the transaction's first insert (its look-ups ask
   * first, anyway): a reading begun after it would miss it. */
  if (t->filters == 0)
    {
      writer_filters (t);
      filter = state ? self->state_keys : self->record_keys;
      pending = state ? self->pending_state : self->pending_record;
    }
  if (filter != NULL)
    key_filter_add (filter, key);
  if (pending != NULL)
    g_array_append_val (pending, key);
}

/* Whether the writer's filter says @key is not in record_state.idkey
 * (%FALSE: it may be, look it up). */
static gboolean
state_surely_absent (SqliteTxn *t, gint64 key)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (t->parent.store);

  return writer_filters (t) && !key_filter_may_hold (self->state_keys, (guint64) key);
}

/* ---- merged states ------------------------------------------------------------- */

/* The record states a transaction keeps unwritten at most. */
#define STATES_KEPT 4096

/* One field's merged state (schema/center/0012-record-state.sql): its
 * name and value in the same block as the state (field_state_new()), one
 * allocation rather than three for each field the writer merges. */
typedef struct {
  const char *name;   /* the field's, in @text */
  const char *value;  /* in @text */
  gint64 cursor;      /* the winning edit */
  char *heads;        /* the heads' cursors, or NULL: the winner alone */
  char text[];        /* the name and the value, each NUL-ended */
} FieldState;

/* One record's merged state, as record_state holds it or will. */
typedef struct _RecordState {
  /* In @text (record_state_new()): one allocation for the state and
   * its names. */
  const char *tbl;
  const char *id;
  gint64 idkey;         /* hearth_record_key (tbl, id) */
  gint64 rkey;          /* its number (record_state.rkey), 0 while it has none */
  gboolean unstored;    /* numbered in this transaction: its row is written by states_flush() */
  /* FieldState *, in their order in the row, then new ones: a record
   * has a few dozen fields at most, found by a walk (a hash table a
   * record cost more to make, fill and free than the walks it saved).
   * @n_fields of @fields_size, grown by record_state_put(): a plain
   * array, as a GPtrArray is made with GLib 2.74's g_slice_alloc(),
   * whose global lock the writer shares with the request threads. */
  FieldState **fields;
  guint n_fields;
  guint fields_size;
  gboolean dirty;       /* set since it was read or written */
  char *lookup;         /* record_state.lookup as stored */
  char text[];          /* the table's name and the id, each NUL-ended */
} RecordState;

/* A field's state named @name (@name_len bytes) of value @value
 * (@value_len bytes), its cursor 0 and no heads: (transfer full). */
static FieldState *
field_state_new (const char *name, gsize name_len, const char *value, gsize value_len)
{
  FieldState *f = g_malloc (sizeof (FieldState) + name_len + value_len + 2);
  char *text = f->text;

  memcpy (text, name, name_len);
  text[name_len] = '\0';
  memcpy (text + name_len + 1, value, value_len);
  text[name_len + 1 + value_len] = '\0';
  f->name = text;
  f->value = text + name_len + 1;
  f->cursor = 0;
  f->heads = NULL;
  return f;
}

static void
field_state_free (FieldState *f)
{
  g_free (f->heads);
  g_free (f);
}

/* The state of (@tbl, @id) without a field: (transfer full). */
static RecordState *
record_state_new (const char *tbl, const char *id)
{
  gsize tbl_size = strlen (tbl) + 1;
  gsize id_size = strlen (id) + 1;
  RecordState *r = g_malloc0 (sizeof (RecordState) + tbl_size + id_size);

  memcpy (r->text, tbl, tbl_size);
  memcpy (r->text + tbl_size, id, id_size);
  r->tbl = r->text;
  r->id = r->text + tbl_size;
  return r;
}

/* Frees @r's fields and forgets them. */
static void
record_state_clear (RecordState *r)
{
  for (guint i = 0; i < r->n_fields; i++)
    field_state_free (r->fields[i]);
  r->n_fields = 0;
}

static void
record_state_free (RecordState *r)
{
  record_state_clear (r);
  g_free (r->fields);
  g_free (r->lookup);
  g_free (r);
}

/* SqliteTxn.states' key: a state, by its record. */
static guint
record_state_hash (gconstpointer key)
{
  const RecordState *r = key;

  return hearth_record_hash (r->tbl, r->id);
}

static gboolean
record_state_equal (gconstpointer a, gconstpointer b)
{
  const RecordState *x = a, *y = b;

  return hearth_record_equal (x->tbl, x->id, y->tbl, y->id);
}

/* The state of (@tbl, @id) the transaction holds, or NULL. */
static RecordState *
record_state_held (SqliteTxn *t, const char *tbl, const char *id)
{
  /* A probe: its names only (no @text). */
  RecordState probe = { .tbl = tbl, .id = id };

  return t->states != NULL ? g_hash_table_lookup (t->states, &probe) : NULL;
}

/* The index of @field in @r's fields, or -1. */
static int
record_state_find (RecordState *r, const char *field)
{
  for (guint i = 0; i < r->n_fields; i++)
    {
      const FieldState *f = r->fields[i];

      if (f->name[0] == field[0] && strcmp (f->name, field) == 0)
        return (int) i;
    }
  return -1;
}

static FieldState *
record_state_field (RecordState *r, const char *field)
{
  int i = record_state_find (r, field);

  return i >= 0 ? r->fields[i] : NULL;
}

/* Sets the state of @f's field to @f (taken): in its place when the
 * field has one (the old one freed), else after the others. */
static void
record_state_put (RecordState *r, FieldState *f)
{
  int i = record_state_find (r, f->name);

  if (i < 0)
    {
      if (r->n_fields == r->fields_size)
        {
          r->fields_size = MAX (8, 2 * r->fields_size);
          r->fields = g_renew (FieldState *, r->fields, r->fields_size);
        }
      r->fields[r->n_fields++] = f;
      return;
    }
  field_state_free (r->fields[i]);
  r->fields[i] = f;
}

/* The value @r is looked up by (record_state.lookup): a household's
 * registry_no, a member's id_number, unless deleted. (transfer none)
 * (nullable) */
static const char *
record_state_lookup (RecordState *r)
{
  const char *field = strcmp (r->tbl, "households") == 0 ? "registry_no"
                      : strcmp (r->tbl, "members") == 0  ? "id_number"
                                                         : NULL;
  FieldState *f, *deleted;

  if (field == NULL || (f = record_state_field (r, field)) == NULL)
    return NULL;
  deleted = record_state_field (r, "deleted");
  if (deleted != NULL && strcmp (deleted->value, "1") == 0)
    return NULL;
  return f->value;
}

/* A JSON string at *@p (after white space), its value (transfer full),
 * *@p moved past it; %NULL when there is none or it holds what the
 * state's text never does (U+0000, a lone surrogate) or JSON does not
 * allow (a control character as it is, which SQLite's JSON functions
 * refuse: the fallback must read whatever this accepts the same). */
static char *
state_string (const char **p)
{
  const char *s = *p + strspn (*p, " \t\n\r");
  GString *out;

  if (*s != '"')
    return NULL;
  out = g_string_sized_new (32);
  for (s++; *s != '"'; s++)
    {
      const char *run = s;

      while (*s != '"' && *s != '\\' && (guchar) *s >= 0x20)
        s++;
      g_string_append_len (out, run, s - run);
      if (*s == '"')
        break;
      if (*s != '\\')
        goto bad;   /* the text's end, a NUL or a control character */
      switch (*++s)
        {
        case '"': case '\\': case '/': g_string_append_c (out, *s); break;
        case 'b': g_string_append_c (out, '\b'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'u':
          {
            gunichar u = 0, low = 0;

            for (int i = 1; i <= 4; i++)
              {
                if (!g_ascii_isxdigit (s[i]))
                  goto bad;
                u = u * 16 + g_ascii_xdigit_value (s[i]);
              }
            s += 4;
            if (u >= 0xd800 && u <= 0xdbff)
              {
                if (s[1] != '\\' || s[2] != 'u')
                  goto bad;
                for (int i = 3; i <= 6; i++)
                  {
                    if (!g_ascii_isxdigit (s[i]))
                      goto bad;
                    low = low * 16 + g_ascii_xdigit_value (s[i]);
                  }
                if (low < 0xdc00 || low > 0xdfff)
                  goto bad;
                u = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
                s += 6;
              }
            else if (u == 0 || (u >= 0xdc00 && u <= 0xdfff))
              goto bad;
            g_string_append_unichar (out, u);
            break;
          }
        default:
          goto bad;
        }
    }
  *p = s + 1;
  return g_string_free (out, FALSE);

bad:
  g_string_free (out, TRUE);
  return NULL;
}

/* Whether *@p (after white space) is @c; moves past it when it is. */
static gboolean
state_char (const char **p, char c)
{
  const char *s = *p + strspn (*p, " \t\n\r");

  if (*s != c)
    return FALSE;
  *p = s + 1;
  return TRUE;
}

/* Whether only white space follows *@p up to @end. */
static gboolean
state_end (const char *p, const char *end)
{
  return p + strspn (p, " \t\n\r") == end;
}

/* record_state.state @text, @len bytes (0012-record-state.sql: {"field":
 * [value, cursor] or [value, cursor, heads], ...}) into @r's fields. Read
 * here rather than by SQLite's json_each() and three JSON paths a field:
 * a household's state (some 50 fields) cost some 70,000 instructions a
 * read that way, once a push. %FALSE (@r's fields as they were, or some
 * of them) for a text of another shape, or one SQLite would refuse
 * (a NUL within @len, a control character in a string, a number with a
 * leading zero): the caller reads it with state_read_row(), which
 * SQLite's JSON functions feed and which reads what this accepts the
 * same (tests/fuzz/fuzz-state-target.c). @text[@len] must be a NUL, as
 * sqlite3_column_text() leaves it. */
static gboolean
state_parse (RecordState *r, const char *text, gsize len)
{
  const char *p = text;
  const char *end = text + len;

  if (!state_char (&p, '{'))
    return FALSE;
  if (state_char (&p, '}'))
    return state_end (p, end);
  do
    {
      g_autofree char *name = state_string (&p);
      g_autofree char *value = NULL;
      FieldState *f;
      const char *digits;
      char *num_end;

      if (name == NULL || !state_char (&p, ':') || !state_char (&p, '['))
        return FALSE;
      if ((value = state_string (&p)) == NULL || !state_char (&p, ','))
        return FALSE;
      /* A string read holds no NUL (state_string()). */
      f = field_state_new (name, strlen (name), value, strlen (value));
      record_state_put (r, f);   /* freed with @r whatever follows */
      p += strspn (p, " \t\n\r");
      digits = *p == '-' ? p + 1 : p;
      /* JSON's integers: no '+', no leading zero */
      if (!g_ascii_isdigit (*digits) || (digits[0] == '0' && g_ascii_isdigit (digits[1])))
        return FALSE;
      errno = 0;
      f->cursor = g_ascii_strtoll (p, &num_end, 10);
      if (errno != 0 || num_end == p || *num_end == '.' || *num_end == 'e' || *num_end == 'E')
        return FALSE;
      p = num_end;
      if (state_char (&p, ',') && (f->heads = state_string (&p)) == NULL)
        return FALSE;
      if (!state_char (&p, ']'))
        return FALSE;
    }
  while (state_char (&p, ','));
  if (!state_char (&p, '}'))
    return FALSE;
  return state_end (p, end);
}

/* What state_read_row() reads a state's fields from: SQLite's json_each()
 * of ?1, a row per member. Any JSON; a member of another shape than
 * [value, cursor(, heads)] gives NULLs or texts of other types. Only an
 * array's members are read by ->>: a string member's value is its text,
 * not JSON, and ->> would fail on it (every push of the record would). */
#define STATE_ROWS_SQL "SELECT key, iif (type = 'array', value ->> 0, NULL), iif (type = 'array', value ->> 1, NULL), " \
                       "iif (type = 'array', value ->> 2, NULL) FROM json_each (?1)"

/* A row of STATE_ROWS_SQL into @r's fields. A member whose value or
 * cursor is missing (not an array, or an empty one: a damaged state) is
 * left out, counted in *@skipped: the field is then merged as one the
 * record never had, where a NULL value would have crashed the writer.
 * A member not an object's (the state an array: keys are numbers) is
 * read under its number, as json_each() names it. */
static void
state_read_row (RecordState *r, sqlite3_stmt *st, guint *skipped)
{
  const char *name, *value;
  FieldState *f;

  if (sqlite3_column_type (st, 0) == SQLITE_NULL)
    return;   /* the state a scalar: no member */
  if (sqlite3_column_type (st, 1) == SQLITE_NULL || sqlite3_column_type (st, 2) == SQLITE_NULL)
    {
      (*skipped)++;
      return;
    }
  /* As column_text() read them: up to a NUL. */
  name = (const char *) sqlite3_column_text (st, 0);
  value = (const char *) sqlite3_column_text (st, 1);
  f = field_state_new (name, strlen (name), value, strlen (value));
  f->cursor = sqlite3_column_int64 (st, 2);
  f->heads = column_text (st, 3);
  record_state_put (r, f);
}

static char *record_state_json (RecordState *r);

/* A state's fields as the tests see them (center-store-private.h). */
static GPtrArray *
state_flatten (RecordState *r)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < r->n_fields; i++)
    {
      FieldState *f = r->fields[i];

      g_ptr_array_add (out, g_strdup (f->name));
      g_ptr_array_add (out, g_strdup (f->value));
      g_ptr_array_add (out, g_strdup_printf ("%" G_GINT64_FORMAT, f->cursor));
      g_ptr_array_add (out, g_strdup (f->heads));
    }
  return out;
}

static RecordState *
state_new_detached (void)
{
  return record_state_new ("households", "");
}

GPtrArray *
hearth_center_state_parse_private (const char *text, gsize len)
{
  g_autofree char *copy = g_malloc (len + 1);
  RecordState *r = state_new_detached ();
  GPtrArray *out = NULL;

  memcpy (copy, text, len);
  copy[len] = '\0';
  if (state_parse (r, copy, len))
    out = state_flatten (r);
  record_state_free (r);
  return out;
}

char *
hearth_center_state_json_private (GPtrArray *fields)
{
  RecordState *r = state_new_detached ();
  char *json;

  for (guint i = 0; i + 3 < fields->len; i += 4)
    {
      const char *name = fields->pdata[i], *value = fields->pdata[i + 1];
      FieldState *f = field_state_new (name, strlen (name), value, strlen (value));

      f->cursor = g_ascii_strtoll (fields->pdata[i + 2], NULL, 10);
      f->heads = g_strdup (fields->pdata[i + 3]);
      record_state_put (r, f);
    }
  json = record_state_json (r);
  record_state_free (r);
  return json;
}

GPtrArray *
hearth_center_state_read_private (sqlite3 *db, const char *text, gsize len, guint *skipped, GError **error)
{
  RecordState *r = state_new_detached ();
  sqlite3_stmt *st = NULL;
  GPtrArray *out = NULL;
  int rc;

  *skipped = 0;
  rc = sqlite3_prepare_v2 (db, STATE_ROWS_SQL, -1, &st, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_text64 (st, 1, len > 0 ? text : "", len, SQLITE_STATIC, SQLITE_UTF8);
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        state_read_row (r, st, skipped);
    }
  if (rc == SQLITE_DONE)
    out = state_flatten (r);
  else
    g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED, "%s", sqlite3_errmsg (db));
  sqlite3_finalize (st);
  record_state_free (r);
  return out;
}

/* The merged state of (@tbl, @id), read from record_state at its first
 * use in the transaction with its number: (transfer none), empty for a
 * record the center holds no state of (its row, if any, '{}'); %NULL with
 * @error set when the store fails. */
static RecordState *
record_state_get (SqliteTxn *t, const char *tbl, const char *id, GError **error)
{
  RecordState *r;
  sqlite3_stmt *st;
  gboolean parsed = FALSE;
  g_autoptr(GBytes) copy = NULL;
  guint skipped = 0;
  int rc;

  if ((r = t->last_state) != NULL && strcmp (r->id, id) == 0 && strcmp (r->tbl, tbl) == 0)
    return r;
  /* Keyed by the state itself (its names): no key made for it. */
  if (t->states == NULL)
    t->states = g_hash_table_new_full (record_state_hash, record_state_equal, NULL,
                                       (GDestroyNotify) record_state_free);
  r = record_state_held (t, tbl, id);
  if (r != NULL)
    return t->last_state = r;
  /* A push holds a few dozen; a registry imported in one transaction
   * would hold every record. */
  if (g_hash_table_size (t->states) >= STATES_KEPT && !states_flush (t, error))
    return NULL;
  r = record_state_new (tbl, id);
  r->idkey = txn_record_key (t, tbl, id);
  /* A record new to the center (the writer's filter): no row. */
  if (state_surely_absent (t, r->idkey))
    {
      g_hash_table_add (t->states, r);
      return t->last_state = r;
    }
  st = stmt (t, "SELECT rkey, lookup, state FROM record_state WHERE idkey = ?3 AND tbl = ?1 AND record_id = ?2", error);
  if (st == NULL)
    {
      record_state_free (r);
      return NULL;
    }
  bind_borrowed (st, 1, tbl);
  bind_borrowed (st, 2, id);
  sqlite3_bind_int64 (st, 3, r->idkey);
  rc = step (t, st, error);
  if (rc == SQLITE_ROW)
    {
      const char *text = (const char *) sqlite3_column_text (st, 2);
      gsize len = sqlite3_column_bytes (st, 2);

      r->rkey = sqlite3_column_int64 (st, 0);
      r->lookup = column_text (st, 1);
      parsed = text != NULL && state_parse (r, text, len);
      if (!parsed)
        copy = text != NULL ? g_bytes_new (text, len) : g_bytes_new (NULL, 0);
    }
  sqlite3_reset (st);
  if (rc < 0)
    {
      record_state_free (r);
      return NULL;
    }
  if (rc == SQLITE_DONE || parsed)
    {
      g_hash_table_add (t->states, r);
      return t->last_state = r;
    }
  /* A state of another shape: SQLite's JSON parser reads it, a row per
   * field (as text: the bytes state_parse() saw). */
  record_state_clear (r);
  st = stmt (t, STATE_ROWS_SQL, error);
  if (st == NULL)
    {
      record_state_free (r);
      return NULL;
    }
  sqlite3_bind_text64 (st, 1, g_bytes_get_size (copy) > 0 ? g_bytes_get_data (copy, NULL) : "",
                       g_bytes_get_size (copy), SQLITE_STATIC, SQLITE_UTF8);
  while ((rc = step (t, st, error)) == SQLITE_ROW)
    state_read_row (r, st, &skipped);
  sqlite3_reset (st);
  if (rc < 0)
    {
      g_prefix_error (error, _("The merged state of record %s of %s is damaged: "), id, tbl);
      record_state_free (r);
      return NULL;
    }
  if (skipped > 0)
    g_warning ("record_state of %s %s: %u fields without a value or cursor left out (a damaged row)", tbl, id,
               skipped);
  g_hash_table_add (t->states, r);
  return t->last_state = r;
}

/* The number of (@tbl, @id) (record_state.rkey) as the transaction's
 * states hold it (*@rkey 0: none, no edit of it stored), without giving
 * one. %FALSE with @error set when the store fails. */
static gboolean
state_number (SqliteTxn *t, const char *tbl, const char *id, gint64 *rkey, GError **error)
{
  RecordState *r = record_state_get (t, tbl, id, error);

  *rkey = r != NULL ? r->rkey : 0;
  return r != NULL;
}

/* Gives @r, a state without a number, the next one (as an INSERT
 * without a rowid would: the transaction holds the writer's lock, and
 * every row of record_state it adds is numbered here). Its row is
 * written by states_flush(). %FALSE with @error set when the store
 * fails. */
static gboolean
state_give_number (SqliteTxn *t, RecordState *r, GError **error)
{
  if (t->next_rkey == 0)
    {
      sqlite3_stmt *st = stmt (t, "SELECT coalesce (max (rkey), 0) + 1 FROM record_state", error);

      if (st == NULL || step (t, st, error) != SQLITE_ROW)
        {
          if (st != NULL)
            sqlite3_reset (st);
          return FALSE;
        }
      t->next_rkey = sqlite3_column_int64 (st, 0);
      sqlite3_reset (st);
    }
  r->rkey = t->next_rkey++;
  r->unstored = TRUE;
  return TRUE;
}

/* The number of (@tbl, @id) (record_state.rkey), given here when it has
 * none: the next one, its state '{}' (that of a record without a field)
 * until an edit of it is merged (0015-record-number.sql,
 * 0016-household-number.sql). Its row is written with its state when the
 * push (its savepoint) or transaction ends, or before a statement reads
 * record_state (states_flush()): until then the transaction's states
 * hold it, and the statements of a push find it there (state_number()).
 * 0 with @error set when the store fails. */
static gint64
record_number (SqliteTxn *t, const char *tbl, const char *id, GError **error)
{
  RecordState *r = record_state_get (t, tbl, id, error);

  if (r == NULL)
    return 0;
  if (r->rkey == 0 && !state_give_number (t, r, error))
    return 0;
  return r->rkey;
}

/* The most Conn.json keeps between statements: a statement of unusual
 * size does not keep its memory. */
#define STATES_JSON_KEPT (256 * 1024)

/* Conn.json, empty. */
static GString *
states_json (SqliteTxn *t)
{
  Conn *conn = t->conn;

  if (conn->json != NULL && conn->json->allocated_len > STATES_JSON_KEPT)
    {
      g_string_free (conn->json, TRUE);
      conn->json = NULL;
    }
  if (conn->json == NULL)
    conn->json = g_string_sized_new (4096);
  g_string_truncate (conn->json, 0);
  return conn->json;
}

/* Appends record_state.state of @r (0012-record-state.sql) to @out. */
static void
record_state_json_append (RecordState *r, GString *out)
{
  g_string_append_c (out, '{');
  for (guint i = 0; i < r->n_fields; i++)
    {
      const FieldState *f = r->fields[i];

      if (i > 0)
        g_string_append_c (out, ',');
      append_json_string (out, f->name);
      append_bytes (out, ":[", 2);
      append_json_string (out, f->value);
      g_string_append_c (out, ',');
      {
        char digits[24];

        append_bytes (out, digits, format_int64 (digits, f->cursor));
      }
      if (f->heads != NULL)
        {
          g_string_append_c (out, ',');
          append_json_string (out, f->heads);
        }
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, '}');
}

/* record_state.state of @r: (transfer full). */
static char *
record_state_json (RecordState *r)
{
  GString *out = g_string_sized_new (64 * r->n_fields + 2);

  record_state_json_append (r, out);
  return g_string_free (out, FALSE);
}

/* Writes the states set since they were read (record_state_get()), and
 * forgets them all: a transaction's states are kept no longer than a
 * push (a savepoint) needs them, not for every record a large import
 * reads. */
static gboolean
states_flush (SqliteTxn *t, GError **error)
{
  return states_write (t, TRUE, error);
}

/* record_state's row of a state: its number, table, id, state, lookup
 * and identity's key (0017-record-identity-key.sql). */
#define STATE_ROW "(?, ?, ?, ?, ?, ?)"
#define STATE_ROWS_4 STATE_ROW ", " STATE_ROW ", " STATE_ROW ", " STATE_ROW
#define STATES_A_STATEMENT 16
#define STATES_COLUMNS " INTO record_state (rkey, tbl, record_id, state, lookup, idkey) VALUES "

/* Makes the rows of @n states numbered in this transaction (1 or
 * STATES_A_STATEMENT), one statement for all: each statement's own
 * cost (its cursors opened, its end, its registers freed) once for
 * many rows: some 3,200 instructions a row less (callgrind of the
 * bench's ingest, 2,922 new states in 5,252 changes: states_write()
 * 8.2k instructions a change before, 6.4k after). The rows are inserted
 * in the order given (by number: appended to the table,
 * states_write()).
 *
 * OR FAIL: a statement of several rows that may stop with ABORT makes
 * SQLite keep a journal of the statement (every page it changes copied
 * first, to undo its rows alone), which cost more than the statements
 * saved. A row refused leaves the rows before it, as the statements of
 * one row each did (marked written here); the transaction or the push's
 * savepoint is undone after a failure anyway. %FALSE with @error set
 * when the store fails. */
static gboolean
states_insert (SqliteTxn *t, RecordState **rows, guint n, GError **error)
{
  /* The rows' states, one after another in one text: row i's from
   * at[i] to at[i + 1]. */
  gsize at[STATES_A_STATEMENT + 1];
  GString *json;
  sqlite3_stmt *st;
  gboolean ok;
  guint done;

  g_return_val_if_fail (n == 1 || n == STATES_A_STATEMENT, FALSE);
  st = stmt_rebound (t, n == 1 ? "INSERT" STATES_COLUMNS STATE_ROW
                               : "INSERT OR FAIL" STATES_COLUMNS STATE_ROWS_4 ", " STATE_ROWS_4 ", " STATE_ROWS_4
                                 ", " STATE_ROWS_4,
                     error);
  if (st == NULL)
    return FALSE;
  /* The texts first: the string may move as it grows. */
  json = states_json (t);
  for (guint i = 0; i < n; i++)
    {
      at[i] = json->len;
      record_state_json_append (rows[i], json);
    }
  at[n] = json->len;
  /* Every parameter bound (stmt_rebound()), lookup NULL included. */
  for (guint i = 0; i < n; i++)
    {
      RecordState *r = rows[i];
      int p = (int) i * 6;

      sqlite3_bind_int64 (st, p + 1, r->rkey);
      bind_borrowed (st, p + 2, r->tbl);
      bind_borrowed (st, p + 3, r->id);
      sqlite3_bind_text (st, p + 4, json->str + at[i], (int) (at[i + 1] - at[i]), SQLITE_STATIC);
      bind_borrowed (st, p + 5, record_state_lookup (r));
      sqlite3_bind_int64 (st, p + 6, r->idkey);
    }
  ok = run (t, st, error);
  /* The rows the statement made, all of them unless it failed. */
  done = ok ? n : MIN ((guint) sqlite3_changes (t->conn->db), n);
  for (guint i = 0; i < done; i++)
    {
      writer_inserted (t, TRUE, (guint64) rows[i]->idkey);
      rows[i]->unstored = FALSE;
      rows[i]->dirty = FALSE;
    }
  return ok;
}

/* Writes the states set since they were read, each once (a state written
 * is clean); @forget: and forgets them all (states_flush()); else they
 * stay in t->states, clean, for commit_txn() to hand to the next
 * wait_durable() (spent_states) or txn_end() to free. */
/* Orders states by their number (record_state.rkey). */
static int
state_by_number (gconstpointer a, gconstpointer b)
{
  const RecordState *x = *(const RecordState *const *) a;
  const RecordState *y = *(const RecordState *const *) b;

  return x->rkey < y->rkey ? -1 : x->rkey > y->rkey;
}

static gboolean
states_write (SqliteTxn *t, gboolean forget, GError **error)
{
  GHashTableIter iter;
  RecordState *r;
  g_autoptr(GPtrArray) set = NULL;

  if (t->states == NULL)
    return TRUE;
  set = g_ptr_array_sized_new (g_hash_table_size (t->states));
  g_hash_table_iter_init (&iter, t->states);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &r))
    {
      if (!r->dirty && !r->unstored)
        continue;
      /* A state set without a number (none of this file's paths: a
       * record edited has one from its first edit on, sqlite_add_change())
       * gets one as its row is made. */
      if (r->rkey == 0 && !state_give_number (t, r, error))
        return FALSE;
      g_ptr_array_add (set, r);
    }
  /* Written in the order of their numbers, not the hash table's: a
   * group's new records are numbered one after another at the end of
   * record_state (its rowid), and rows put there in a random order
   * split the table's last pages in the middle (balance_nonroot(),
   * three pages of rows redistributed each time) where rows in order
   * are appended to its last page (balance_quick()). */
  g_ptr_array_sort (set, state_by_number);
  for (guint i = 0; i < set->len;)
    {
      GString *json;
      const char *lookup;
      sqlite3_stmt *st;
      guint n = 0;

      /* Rows made here, STATES_A_STATEMENT at a time (states_insert()):
       * a group's new records are most of what it writes. */
      while (n < STATES_A_STATEMENT && i + n < set->len && ((RecordState *) set->pdata[i + n])->unstored)
        n++;
      if (n == STATES_A_STATEMENT)
        {
          if (!states_insert (t, (RecordState **) set->pdata + i, n, error))
            return FALSE;
          i += n;
          continue;
        }
      r = set->pdata[i++];
      /* By its number (the table's rowid); an UPDATE that leaves lookup
       * alone leaves its index alone. A record numbered in this
       * transaction has no row yet: made here, with its state. */
      if (r->unstored)
        {
          if (!states_insert (t, &r, 1, error))
            return FALSE;
          continue;
        }
      json = states_json (t);
      record_state_json_append (r, json);
      lookup = record_state_lookup (r);
      if (g_strcmp0 (lookup, r->lookup) != 0)
        st = stmt (t, "UPDATE record_state SET state = ?4, lookup = ?5 WHERE rkey = ?1", error);
      else
        st = stmt (t, "UPDATE record_state SET state = ?4 WHERE rkey = ?1", error);
      if (st == NULL)
        return FALSE;
      sqlite3_bind_int64 (st, 1, r->rkey);
      sqlite3_bind_text (st, 4, json->str, (int) json->len, SQLITE_STATIC);
      if (sqlite3_bind_parameter_count (st) >= 5)
        bind_borrowed (st, 5, lookup);
      if (!run (t, st, error))
        return FALSE;
      r->dirty = FALSE;
    }
  if (forget)
    {
      t->last_state = NULL;
      g_hash_table_remove_all (t->states);
    }
  return TRUE;
}

static GPtrArray *
sqlite_list_heads (HearthCenterTxn *txn, const char *table, const char *id, const char *field, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  g_auto(GStrv) cursors = NULL;
  RecordState *r = record_state_get (t, table, id, error);
  FieldState *f;
  sqlite3_stmt *st;
  int rc;

  if (r == NULL)
    return NULL;
  f = record_state_field (r, field);
  if (f != NULL && f->heads != NULL)
    cursors = g_strsplit (f->heads, " ", -1);
  else if (f != NULL)
    cursors = g_new0 (char *, 2), cursors[0] = g_strdup_printf ("%" G_GINT64_FORMAT, f->cursor);
  for (guint i = 0; cursors != NULL && cursors[i] != NULL; i++)
    {
      HearthChange *c;
      gint64 cursor;

      if (!g_ascii_string_to_signed (cursors[i], 10, 1, G_MAXINT64, &cursor, NULL))
        continue;
      /* The winner's value is the state's (sqlite_set_field_state()):
       * its row is read without its value, which for an 'edits' row
       * (a visit's write of its household) meant parsing the row's
       * fields twice. An empty value is read from the row: the row may
       * hold none (NULL), which the state keeps as "". */
      if (cursor == f->cursor && f->value[0] != '\0')
        st = stmt (t, "SELECT hlc, household, village, NULL FROM changes WHERE cursor = ?1 AND (kind = 'edit' OR "
                      "kind = 'edits')", error);
      /* A head stored in an 'edits' row is its field there. */
      else
        st = stmt (t, "SELECT hlc, household, village, CASE kind WHEN 'edit' THEN value ELSE fields -> ?2 ->> 0 END "
                      "FROM changes WHERE cursor = ?1 AND (kind = 'edit' OR (kind = 'edits' AND fields -> ?2 IS NOT NULL))",
                   error);
      if (st == NULL)
        return NULL;
      sqlite3_bind_int64 (st, 1, cursor);
      bind_borrowed (st, 2, field);
      if ((rc = step (t, st, error)) < 0)
        return NULL;
      if (rc == SQLITE_ROW)
        {
          c = hearth_change_new (HEARTH_CHANGE_EDIT);
          c->cursor = cursor;
          c->table = g_strdup (table);
          c->id = g_strdup (id);
          c->field = g_strdup (field);
          c->hlc = column_text (st, 0);
          c->household = column_text (st, 1);
          c->village = column_text (st, 2);
          c->value = sqlite3_column_type (st, 3) == SQLITE_NULL && cursor == f->cursor && f->value[0] != '\0'
                       ? g_strdup (f->value)
                       : column_text (st, 3);
          g_ptr_array_add (list, c);
          held_add (t, table, id, field, c->hlc);
        }
      sqlite3_reset (st);
    }
  return g_steal_pointer (&list);
}

static gboolean
sqlite_set_field_state (HearthCenterTxn *txn, const HearthChange *winner, GPtrArray *losers, GPtrArray *heads,
                        gboolean had_conflicts, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  /* Set in the record's state, written once for all the fields the push
   * sets (states_flush()). Its household and village are its winning
   * edit's, found by the cursor kept (0012-record-state.sql). */
  RecordState *r = record_state_get (t, winner->table, winner->id, error);
  const char *value;
  FieldState *f;
  sqlite3_stmt *st;

  if (r == NULL)
    return FALSE;
  if (winner->cursor <= 0)
    {
      g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                   "the merged state of %s.%s of record %s names an edit the center has not stored", winner->table,
                   winner->field, winner->id);
      return FALSE;
    }
  value = winner->value != NULL ? winner->value : "";
  f = field_state_new (winner->field, strlen (winner->field), value, strlen (value));
  f->cursor = winner->cursor;
  if (heads->len != 1 || ((const HearthChange *) heads->pdata[0])->cursor != winner->cursor)
    {
      GString *cursors = g_string_new (NULL);

      for (guint i = 0; i < heads->len; i++)
        g_string_append_printf (cursors, "%s%" G_GINT64_FORMAT, i > 0 ? " " : "",
                                ((const HearthChange *) heads->pdata[i])->cursor);
      f->heads = g_string_free (cursors, FALSE);
    }
  record_state_put (r, f);
  r->dirty = TRUE;

  /* The open conflicts are a function of the edits: replace them all. */
  if (had_conflicts)
    {
      st = stmt (t, "DELETE FROM conflicts WHERE tbl = ? AND record_id = ? AND field = ?", error);
      if (st == NULL)
        return FALSE;
      bind_borrowed (st, 1, winner->table);
      bind_borrowed (st, 2, winner->id);
      bind_borrowed (st, 3, winner->field);
      if (!run (t, st, error))
        return FALSE;
    }
  for (guint i = 0; i < losers->len; i++)
    {
      const HearthChange *loser = losers->pdata[i];
      g_autofree char *id = hearth_merge_conflict_id (winner->table, winner->id, winner->field, winner->hlc,
                                                      loser->hlc);

      st = stmt (t, "INSERT INTO conflicts (id, tbl, record_id, field, household, village, winner_hlc, loser_hlc, "
                    "loser_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
      if (st == NULL)
        return FALSE;
      bind_borrowed (st, 1, id);
      bind_borrowed (st, 2, winner->table);
      bind_borrowed (st, 3, winner->id);
      bind_borrowed (st, 4, winner->field);
      bind_borrowed (st, 5, loser->household);
      bind_borrowed (st, 6, loser->village);
      bind_borrowed (st, 7, winner->hlc);
      bind_borrowed (st, 8, loser->hlc);
      bind_borrowed (st, 9, loser->value != NULL ? loser->value : "");
      if (!run (t, st, error))
        return FALSE;
    }
  return TRUE;
}

static char *
sqlite_get_household_village (HearthCenterTxn *txn, const char *household, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  RecordState *r = record_state_held (t, "households", household);
  sqlite3_stmt *st;
  char *village = NULL;

  /* By the household's number (0016-household-number.sql), when the
   * transaction read it already. */
  if (r != NULL && r->rkey != 0)
    {
      st = stmt (t, "SELECT village FROM household_villages WHERE hkey = ?1", error);
      if (st == NULL)
        return NULL;
      sqlite3_bind_int64 (st, 1, r->rkey);
    }
  else if (r != NULL)
    return NULL;
  /* A household new to the center (the writer's filter): no number, no
   * village. */
  else if (state_surely_absent (t, txn_record_key (t, "households", household)))
    return NULL;
  else
    {
      st = stmt (t, "SELECT village FROM household_villages WHERE hkey = (SELECT rkey FROM record_state WHERE "
                    RECORD_STATE_IS ("'households'", "?1") ")", error);
      if (st == NULL)
        return NULL;
      bind_borrowed (st, 1, household);
    }
  if (step (t, st, error) == SQLITE_ROW)
    village = column_text (st, 0);
  sqlite3_reset (st);
  return village;
}

static gboolean
sqlite_set_household_village (HearthCenterTxn *txn, const char *household, const char *village, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st;
  /* The household's number, given here when it has none (as
   * sqlite_add_change() does), so that a household new to the center is
   * kept at the end of the table (0016-household-number.sql); a push
   * stored the household's edits before, and knows it: one statement. */
  gint64 hkey = record_number (t, "households", household, error);

  if (hkey == 0)
    return FALSE;
  st = stmt (t, "INSERT INTO household_villages (hkey, village) VALUES (?1, ?2) "
                "ON CONFLICT (hkey) DO UPDATE SET village = excluded.village", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, hkey);
  bind_borrowed (st, 2, village);
  return run (t, st, error);
}

static char *
sqlite_get_record_household (HearthCenterTxn *txn, const char *table, const char *id, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  RecordState *r = record_state_get (t, table, id, error);
  FieldState *f;
  sqlite3_stmt *st;
  char *household = NULL;
  int rc;

  if (r == NULL)
    return NULL;
  /* Its merged household_id (read with the rest of its state, which the
   * push sets next), else its first edit's household. */
  if ((f = record_state_field (r, "household_id")) != NULL)
    return g_strdup (f->value);
  /* No field merged: no edit of it stored, before or in this
   * transaction (every edit stored sets its field's state, and a state
   * holds a field for each field edited), so no first edit either; a
   * visit's records are new ones, and this was a second lookup each. */
  if (r->n_fields == 0)
    return NULL;
  /* A household's edits are all its own (the header): a push asks of the
   * household each visit edits whether the center holds it, and this
   * walked the household's edits for the answer. */
  if (strcmp (table, "households") == 0)
    return g_strdup (id);
  /* The household of the record's first edit by min() rather than ORDER
   * BY … LIMIT 1, which sorted the record's edits in a temporary b-tree
   * made for each call (SQLite takes the bare column from the row min()
   * picks; no edit: one row of NULL). */
  if (r->rkey == 0)
    return NULL;
  st = stmt (t, "SELECT household, min (cursor) FROM changes INDEXED BY changes_by_key WHERE ikey BETWEEN "
                "?3 AND ?3 + 65535 AND tbl = ?1 AND record_id = ?2 AND (kind = 'edit' OR kind = 'edits')", error);
  if (st == NULL)
    return NULL;
  bind_borrowed (st, 1, table);
  bind_borrowed (st, 2, id);
  sqlite3_bind_int64 (st, 3, r->rkey * 65536);
  rc = step (t, st, error);
  if (rc == SQLITE_ROW)
    household = column_text (st, 0);
  sqlite3_reset (st);
  return household;
}

/* Appends @text as a JSON string (RFC 8259: quotes, backslashes and
 * control characters escaped; the rest is UTF-8 as stored). */
static void
append_json_string (GString *out, const char *text)
{
  const char *run_start = text;
  const char *p = text;
  gsize len = strlen (text);
  gsize plain = 0;

  /* Most strings need no escape (ids, versions, dates, a field's value):
   * the text's length first, then a test of eight bytes a step for a
   * quote, a backslash or a control character, and the string written
   * in one copy (byte by byte, with an append for each piece, was a
   * fifth of preparing a push's changes on its request thread). */
  while (len - plain >= 8)
    {
      guint64 w;

      memcpy (&w, text + plain, sizeof w);
#define JSON_ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define JSON_HIGHS G_GUINT64_CONSTANT (0x8080808080808080)
#define JSON_BELOW(w, n) (((w) - JSON_ONES * (n)) & ~(w) & JSON_HIGHS)
      if (JSON_BELOW (w, 0x20) | JSON_BELOW (w ^ (JSON_ONES * '"'), 1) | JSON_BELOW (w ^ (JSON_ONES * '\\'), 1))
        break;
#undef JSON_BELOW
#undef JSON_HIGHS
#undef JSON_ONES
      plain += 8;
    }
  while (plain < len && (guchar) text[plain] >= 0x20 && text[plain] != '"' && text[plain] != '\\')
    plain++;
  if (plain == len)
    {
      if (out->len + len + 2 < out->allocated_len)
        {
          out->str[out->len] = '"';
          memcpy (out->str + out->len + 1, text, len);
          out->len += len + 2;
          out->str[out->len - 1] = '"';
          out->str[out->len] = '\0';
        }
      else
        {
          g_string_append_c (out, '"');
          g_string_append_len (out, text, (gssize) len);
          g_string_append_c (out, '"');
        }
      return;
    }
  g_string_append_c (out, '"');
  /* The plain start is taken as it is; the loop below writes the rest. */
  for (p = text + plain; *p != '\0'; p++)
    {
      guchar ch = (guchar) *p;

      if (ch >= 0x20 && ch != '"' && ch != '\\')
        continue;
      append_bytes (out, run_start, (gsize) (p - run_start));
      switch (ch)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default: g_string_append_printf (out, "\\u%04x", ch); break;
        }
      run_start = p + 1;
    }
  /* p is at the terminating NUL: no strlen of the rest. */
  append_bytes (out, run_start, (gsize) (p - run_start));
  g_string_append_c (out, '"');
}

/* Appends the string literal @lit to @out (append_bytes(): no call into
 * GLib while the string has room; GLib 2.74 inlines no g_string_append). */
#define append_literal(out, lit) append_bytes ((out), "" lit, sizeof (lit) - 1)

/* Appends ,"@name": and @text as a JSON string; @name is a string
 * literal. Without printf: a page writes several for each of up to
 * 10,000 changes. */
#define append_member(out, name, text) \
  G_STMT_START { \
    append_bytes ((out), ",\"" name "\":", sizeof (name) + 3); \
    append_json_string ((out), (text)); \
  } G_STMT_END

/* Writes @v in decimal to @buf (at least 21 bytes, not terminated);
 * returns its length. */
static gsize
format_int64 (char *buf, gint64 v)
{
  char tmp[24];
  guint64 u = v < 0 ? -(guint64) v : (guint64) v;
  gsize n = 0, len = 0;

  do
    tmp[n++] = (char) ('0' + u % 10);
  while ((u /= 10) > 0);
  if (v < 0)
    buf[len++] = '-';
  while (n > 0)
    buf[len++] = tmp[--n];
  return len;
}

/* Opens the change of @kind of the row at @st (CHANGE_COLUMNS): its
 * cursor, kind, table, id, and household and village when set, in the
 * order hearth_change_append_json() writes them. */
static void
append_row_head (GString *out, sqlite3_stmt *st, const char *kind)
{
  const char *household = (const char *) sqlite3_column_text (st, 7);
  const char *village = (const char *) sqlite3_column_text (st, 8);
  char cursor[24];

  append_literal (out, "{\"cursor\":");
  append_bytes (out, cursor, format_int64 (cursor, sqlite3_column_int64 (st, 0)));
  append_literal (out, ",\"kind\":\"");
  append_bytes (out, kind, strlen (kind));
  g_string_append_c (out, '"');
  append_member (out, "table", (const char *) sqlite3_column_text (st, 2));
  append_member (out, "id", (const char *) sqlite3_column_text (st, 3));
  if (household != NULL)
    append_member (out, "household", household);
  if (village != NULL)
    append_member (out, "village", village);
}

/* One row of CHANGE_COLUMNS as the protocol's JSON object, as
 * hearth_change_to_json() writes it. The parents and fields columns are
 * JSON this file wrote (parents_to_json(), fields_to_json()): copied as
 * they are. */
static void
append_change_json (GString *out, sqlite3_stmt *st)
{
  gboolean edit = g_strcmp0 ((const char *) sqlite3_column_text (st, 1), "edit") == 0;

  append_row_head (out, st, edit ? "edit" : "record");
  if (edit)
    {
      const char *parents = (const char *) sqlite3_column_text (st, 6);
      const char *wall = (const char *) sqlite3_column_text (st, 11);
      const char *value = (const char *) sqlite3_column_text (st, 9);

      append_member (out, "field", (const char *) sqlite3_column_text (st, 4));
      append_member (out, "value", value != NULL ? value : "");
      append_member (out, "hlc", (const char *) sqlite3_column_text (st, 5));
      append_literal (out, ",\"parents\":");
      if (parents != NULL)
        append_bytes (out, parents, (gsize) sqlite3_column_bytes (st, 6));
      else
        append_literal (out, "[]");
      if (wall != NULL)
        append_member (out, "wall", wall);
    }
  else
    {
      g_autofree char *owned = NULL;
      const char *fields = column_fields (st, 10, &owned);

      append_literal (out, ",\"fields\":");
      if (fields != NULL)
        append_bytes (out, fields, strlen (fields));
      else
        append_literal (out, "{}");
    }
  g_string_append_c (out, '}');
}

/* Appends @n (at least 1) "(village >= ? AND village < ?)" joined by OR
 * as a balanced tree. A flat chain of ORs is an expression as deep as it
 * is long, and SQLite refuses one deeper than SQLITE_MAX_EXPR_DEPTH (1000):
 * a user stored with a thousand villages had every pull fail. The planner
 * flattens nested ORs again, so each range still walks the village index. */
static void
append_village_ranges (GString *sql, guint n)
{
  if (n == 1)
    {
      g_string_append (sql, "(village >= ? AND village < ?)");
      return;
    }
  g_string_append_c (sql, '(');
  append_village_ranges (sql, n / 2);
  g_string_append (sql, " OR ");
  append_village_ranges (sql, n - n / 2);
  g_string_append_c (sql, ')');
}

static gboolean
in_scope (const char *village, const HearthCenterPullQuery *q)
{
  if (village == NULL)
    return q->unplaced;
  for (guint i = 0; q->prefixes[i] != NULL; i++)
    if (g_str_has_prefix (village, q->prefixes[i]))
      return TRUE;
  return FALSE;
}

/* ---- walking a scope's changes --------------------------------------------------------------------- */

/* The villages a scope may hold for its pulls to walk them one by one
 * (scope_villages()), at most: a wider scope (a township's user of a large
 * county, the county's own) walks the change log in cursor order, where
 * most of what it passes is its own anyway. */
#define PULL_WALK_VILLAGES 64

/* The villages of @q's scope that changes name, in order, each once, into
 * @villages; FALSE without @error when there are more than @max (the
 * caller walks the whole log), or with @error. One step of the village
 * index each: a county's store holds a few hundred villages and millions
 * of changes. */
static gboolean
scope_villages (SqliteTxn *t, const HearthCenterPullQuery *q, guint max, GPtrArray *villages, GError **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  sqlite3_stmt *st = stmt (t, "SELECT min (village) FROM changes INDEXED BY changes_by_village "
                              "WHERE village >= ?1 AND village < ?2", error);

  if (st == NULL)
    return FALSE;
  for (guint i = 0; q->prefixes[i] != NULL; i++)
    {
      /* Every village with the prefix (villages are digits: ":" sorts
       * right after "9"); the next one is above the last found and its
       * every continuation ("\x01" is below any digit). */
      g_autofree char *upper = g_strconcat (q->prefixes[i], ":", NULL);
      g_autofree char *from = g_strdup (q->prefixes[i]);

      for (;;)
        {
          const char *village;
          int rc;

          sqlite3_reset (st);
          bind_text (st, 1, from);
          bind_text (st, 2, upper);
          rc = step (t, st, error);
          if (rc < 0)
            return FALSE;
          village = rc == SQLITE_ROW ? (const char *) sqlite3_column_text (st, 0) : NULL;
          if (village == NULL)
            break;
          if (!g_hash_table_contains (seen, village))
            {
              char *copy = g_strdup (village);

              if (villages->len == max)
                {
                  g_free (copy);
                  sqlite3_reset (st);
                  return FALSE;
                }
              g_ptr_array_add (villages, copy);
              g_hash_table_add (seen, copy);
            }
          g_free (from);
          from = g_strconcat (village, "\x01", NULL);
        }
    }
  sqlite3_reset (st);
  return TRUE;
}

/* One of the ordered row sources a pull page merges (PullWalk). */
typedef struct {
  sqlite3_stmt *st;
  gint64 cursor;       /* of the row it is on; 0 when done */
  GPtrArray *idle;     /* (nullable) the connection's idle statements of its SQL, where it goes back */
} PullStream;

/* A pull page's rows in cursor order: either one statement over the whole
 * change log in cursor order, or, for a scope of few villages, the merge
 * of one walk of the village index (village, cursor) per village and one
 * of the changes without a village that the page lists. A fresh device's
 * pull of one village then costs its village, not the county's store: a
 * walk in cursor order read the village of every change of every other
 * village to find its own. A county of 180 villages holds tens of
 * millions of changes; in a store of 2.9 million (bench-sync's store of 20
 * villages copied into 10 more townships), a fresh pull of one township's
 * 102,634 changes took 1.7-4.1 s of CPU in cursor order and 0.29-0.39 s
 * by its villages, of one village's 19,241 1.8 s against 0.06 s. */
typedef struct {
  GArray *streams;     /* (element-type PullStream) */
  int current;         /* the stream of the row handed out last, or -1 */
} PullWalk;

/* The SQL texts whose statements a connection keeps between pull pages
 * (Conn.walk_stmts), at most: a scope's pulls use two or three (one for
 * its villages, one for the changes without a village, or one over the
 * change log), and a center's scopes a few kinds of them. A connection
 * serves one page at a time, so it keeps of each text at most the
 * statements one page used: PULL_WALK_VILLAGES + 1. */
#define PULL_WALK_TEXTS 16

/* Puts @w's statements back to their connection's idle ones (@t's), or
 * finalises those that have none. */
static void
pull_walk_clear (PullWalk *w)
{
  for (guint i = 0; w->streams != NULL && i < w->streams->len; i++)
    {
      PullStream *s = &g_array_index (w->streams, PullStream, i);

      if (s->idle == NULL)
        {
          sqlite3_finalize (s->st);
          continue;
        }
      sqlite3_reset (s->st);
      sqlite3_clear_bindings (s->st);
      g_ptr_array_add (s->idle, s->st);
    }
  g_clear_pointer (&w->streams, g_array_unref);
}

/* A statement of @sql for @w, bound (its parameters: ?1 compact_until,
 * ?2 the village, ?3 the cursor to start after, ?4 the device left out;
 * the caller binds any after them), or %NULL with @error. One the
 * connection kept from an earlier page of the same SQL when it has one
 * (Conn.walk_stmts): preparing a scope's twenty-odd statements again
 * for each page cost more than some pages' rows. */
static sqlite3_stmt *
pull_walk_prepare (SqliteTxn *t, PullWalk *w, const char *sql, const HearthCenterPullQuery *q, const char *village,
                   GError **error)
{
  PullStream s = { NULL, 0, g_hash_table_lookup (t->conn->walk_stmts, sql) };
  int rc;

  if (s.idle == NULL && g_hash_table_size (t->conn->walk_stmts) < PULL_WALK_TEXTS)
    {
      s.idle = g_ptr_array_new_with_free_func (finalize_stmt);
      g_hash_table_insert (t->conn->walk_stmts, g_strdup (sql), s.idle);
    }
  if (s.idle != NULL && s.idle->len > 0)
    s.st = g_ptr_array_steal_index_fast (s.idle, s.idle->len - 1);
  else
    {
      rc = sqlite3_prepare_v3 (t->conn->db, sql, -1, s.idle != NULL ? SQLITE_PREPARE_PERSISTENT : 0, &s.st, NULL);
      if (rc != SQLITE_OK)
        {
          txn_fail (t, rc, error);
          return NULL;
        }
    }
  g_array_append_val (w->streams, s);
  sqlite3_bind_int64 (s.st, 1, q->compact_until);
  if (village != NULL)
    bind_text (s.st, 2, village);
  sqlite3_bind_int64 (s.st, 3, q->after);
  bind_text (s.st, 4, q->exclude_device);
  return s.st;
}

/* Reads the first row of every stream of @w. */
static gboolean
pull_walk_first (SqliteTxn *t, PullWalk *w, GError **error)
{
  for (guint i = 0; i < w->streams->len; i++)
    {
      PullStream *s = &g_array_index (w->streams, PullStream, i);
      int rc = step (t, s->st, error);

      if (rc < 0)
        return FALSE;
      s->cursor = rc == SQLITE_ROW ? sqlite3_column_int64 (s->st, 0) : 0;
    }
  return TRUE;
}

/* Starts @w on @q's rows, each row the columns @columns names (cursor
 * first) of the page's SELECT. */
static gboolean
pull_walk_start (SqliteTxn *t, PullWalk *w, const HearthCenterPullQuery *q, const char *columns, gboolean by_village,
                 GError **error)
{
  g_autoptr(GPtrArray) villages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) sql = NULL;
  guint n = g_strv_length ((char **) q->prefixes);

  w->streams = g_array_new (FALSE, FALSE, sizeof (PullStream));
  w->current = -1;
  /* A scope of the whole county reads every change but its device's own,
   * those without a village too, which the village index does not hold
   * (0024-village-index-placed.sql): in cursor order, from the log. */
  if (q->unplaced)
    by_village = FALSE;
  if (by_village && !scope_villages (t, q, PULL_WALK_VILLAGES, villages, error))
    {
      if (error != NULL && *error != NULL)
        return FALSE;
      by_village = FALSE;
    }
  if (!by_village)
    {
      sqlite3_stmt *st;

      /* Ranges rather than LIKE: "_" would match anything, and a range on
       * the village index is exact (":" sorts just after "9"). Published
       * records are for every device. No LIMIT: compaction may leave rows
       * out, and the rows are read one at a time anyway. The ranges'
       * parameters follow ?4. */
      sql = g_string_new ("SELECT ");
      g_string_append_printf (sql, "%s FROM changes WHERE cursor > ?3 AND " NOT_OWN " AND (tbl IN ('forms', "
                                   "'thresholds', 'divisions')", columns);
      if (q->unplaced)
        g_string_append (sql, " OR village IS NULL");
      if (n > 0)
        {
          g_string_append (sql, " OR ");
          append_village_ranges (sql, n);
        }
      g_string_append (sql, ") ORDER BY cursor");
      st = pull_walk_prepare (t, w, sql->str, q, NULL, error);
      if (st == NULL)
        return FALSE;
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *upper = g_strconcat (q->prefixes[i], ":", NULL);

          bind_text (st, 5 + 2 * (int) i, q->prefixes[i]);
          bind_text (st, 6 + 2 * (int) i, upper);
        }
      return pull_walk_first (t, w, error);
    }
  /* Each village's changes in cursor order, from the village index. */
  sql = g_string_new (NULL);
  g_string_printf (sql, "SELECT %s FROM changes INDEXED BY changes_by_village WHERE village = ?2 AND cursor > ?3 "
                        "AND " NOT_OWN " ORDER BY cursor", columns);
  for (guint i = 0; i < villages->len; i++)
    if (pull_walk_prepare (t, w, sql->str, q, villages->pdata[i], error) == NULL)
      return FALSE;
  /* The published records, a few, found by their tables and put in
   * cursor order (the scope lists no other change without a village). */
  g_string_printf (sql, "SELECT %s FROM changes WHERE cursor IN (SELECT cursor FROM published_cursors "
                        "WHERE cursor > ?3) AND " NOT_OWN " AND ?2 IS NULL ORDER BY cursor", columns);
  if (pull_walk_prepare (t, w, sql->str, q, NULL, error) == NULL)
    return FALSE;
  return pull_walk_first (t, w, error);
}

/* The next row of @w in cursor order, or %NULL at the end (and with
 * @error set when a step failed: *@failed is set). */
static sqlite3_stmt *
pull_walk_next (SqliteTxn *t, PullWalk *w, gboolean *failed, GError **error)
{
  int best = -1;

  if (w->current >= 0)
    {
      PullStream *s = &g_array_index (w->streams, PullStream, w->current);
      int rc = step (t, s->st, error);

      if (rc < 0)
        {
          *failed = TRUE;
          return NULL;
        }
      s->cursor = rc == SQLITE_ROW ? sqlite3_column_int64 (s->st, 0) : 0;
    }
  for (guint i = 0; i < w->streams->len; i++)
    {
      gint64 cursor = g_array_index (w->streams, PullStream, i).cursor;

      if (cursor > 0 && (best < 0 || cursor < g_array_index (w->streams, PullStream, best).cursor))
        best = (int) i;
    }
  w->current = best;
  return best < 0 ? NULL : g_array_index (w->streams, PullStream, best).st;
}

/* The fields a compacted page remembers whether the device edited, at most. */
#define PULL_FIELDS_CACHED 65536

/* What compaction learns once a page (PROTOCOL.md section 8.1). */
typedef struct {
  int has_own;        /* whether the device made an edit with a cursor up to compact_until; -1: not asked yet */
  GHashTable *own;    /* "tbl\nrecord_id\nfield" → whether the device made an edit of it up to there */
} PullCompaction;

/* Whether @cursor is one of @heads (cursors, space-separated). */
static gboolean
heads_hold (const char *heads, gint64 cursor)
{
  const char *p = heads;

  while (p != NULL && *p != '\0')
    {
      char *end = NULL;
      gint64 head = g_ascii_strtoll (p, &end, 10);

      if (end == p)
        return FALSE;
      if (head == cursor)
        return TRUE;
      p = end;
      while (*p == ' ')
        p++;
    }
  return FALSE;
}

/* An edit a compacted page decides on: a row of kind 'edit', or one
 * field of a row of kind 'edits'. Borrowed. */
typedef struct {
  gint64 cursor;
  const char *tbl;
  const char *record_id;
  const char *field;
  const char *hlc;
  const char *heads;   /* (nullable) its field's heads (record_state), when read */
} PullEdit;

/* Whether an edit of @e's field in the device's scope with a cursor up
 * to compact_until names @quoted (@e's version in quotes) among its
 * parents: those stored after @e (@later), or before it; stored as rows
 * of kind 'edit' or as fields of rows of kind 'edits'. 1, 0, or -1 with
 * @error set. */
static int
named_in_scope (SqliteTxn *t, const PullEdit *e, const HearthCenterPullQuery *q, const char *quoted, gboolean later,
                GError **error)
{
  sqlite3_stmt *st = stmt (t, later ? "SELECT village FROM changes " KEY_WHERE "kind = 'edit' AND tbl = ?1 "
                                      "AND record_id = ?2 AND field = ?3 AND cursor > ?4 AND cursor <= ?5 "
                                      "AND instr (parents, ?6) > 0 UNION ALL SELECT village FROM changes "
                                      EDITS_ROWS_WHERE "cursor > ?4 AND cursor <= ?5 AND instr (fields, ?6) > 0 "
                                      "AND instr (fields -> ?3 ->> 1, ?6) > 0"
                                    : "SELECT village FROM changes " KEY_WHERE "kind = 'edit' AND tbl = ?1 "
                                      "AND record_id = ?2 AND field = ?3 AND cursor < ?4 AND cursor <= ?5 "
                                      "AND instr (parents, ?6) > 0 UNION ALL SELECT village FROM changes "
                                      EDITS_ROWS_WHERE "cursor < ?4 AND cursor <= ?5 AND instr (fields, ?6) > 0 "
                                      "AND instr (fields -> ?3 ->> 1, ?6) > 0",
                           error);
  int rc, named = 0;

  if (st == NULL)
    return -1;
  bind_borrowed (st, 1, e->tbl);
  bind_borrowed (st, 2, e->record_id);
  bind_borrowed (st, 3, e->field);
  sqlite3_bind_int64 (st, 4, e->cursor);
  sqlite3_bind_int64 (st, 5, q->compact_until);
  bind_borrowed (st, 6, quoted);
  while (!named && (rc = step (t, st, error)) == SQLITE_ROW)
    named = in_scope ((const char *) sqlite3_column_text (st, 0), q);
  sqlite3_reset (st);
  return named || rc >= 0 ? named : -1;
}

/* Whether the pulling device made an edit of @e's field with a cursor up
 * to compact_until (a row of kind 'edit' or a field of one of kind
 * 'edits'). 1, 0, or -1 with @error set. */
static int
own_field (SqliteTxn *t, const PullEdit *e, const HearthCenterPullQuery *q, PullCompaction *c, GError **error)
{
  g_autofree char *key = NULL;
  gpointer cached;
  sqlite3_stmt *st;
  int rc;

  if (q->exclude_device == NULL)
    return 0;
  if (c->has_own < 0)
    {
      /* Most compacted pulls are a fresh store's: its device made none. */
      st = stmt (t, "SELECT 1 FROM changes WHERE device = (SELECT num FROM device_numbers WHERE id = ?) "
                    "AND (kind = 'edit' OR kind = 'edits') "
                    "AND cursor <= ? LIMIT 1", error);
      if (st == NULL)
        return -1;
      bind_text (st, 1, q->exclude_device);
      sqlite3_bind_int64 (st, 2, q->compact_until);
      rc = step (t, st, error);
      sqlite3_reset (st);
      if (rc < 0)
        return -1;
      c->has_own = rc == SQLITE_ROW;
    }
  if (!c->has_own)
    return 0;

  key = g_strdup_printf ("%s\n%s\n%s", e->tbl, e->record_id, e->field);
  if (c->own == NULL)
    c->own = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (g_hash_table_lookup_extended (c->own, key, NULL, &cached))
    return GPOINTER_TO_INT (cached);
  /* Bounded: a page may pass many rows it leaves out. */
  if (g_hash_table_size (c->own) >= PULL_FIELDS_CACHED)
    g_hash_table_remove_all (c->own);
  st = stmt (t, "SELECT 1 FROM changes " KEY_WHERE "kind = 'edit' AND tbl = ?1 AND record_id = ?2 AND field = ?3 "
                "AND " OWN " AND cursor <= ?5 UNION ALL SELECT 1 FROM changes " EDITS_ROWS_WHERE OWN " "
                "AND cursor <= ?5 AND fields -> ?3 IS NOT NULL LIMIT 1", error);
  if (st == NULL)
    return -1;
  bind_borrowed (st, 1, e->tbl);
  bind_borrowed (st, 2, e->record_id);
  bind_borrowed (st, 3, e->field);
  bind_text (st, 4, q->exclude_device);
  sqlite3_bind_int64 (st, 5, q->compact_until);
  rc = step (t, st, error);
  sqlite3_reset (st);
  if (rc < 0)
    return -1;
  g_hash_table_insert (c->own, g_steal_pointer (&key), GINT_TO_POINTER (rc == SQLITE_ROW));
  return rc == SQLITE_ROW;
}

/* Whether the edit @e (cursor up to compact_until) is left out of a
 * compacted page: an edit of its field in the device's scope with a
 * cursor up to compact_until names it as a parent, and the device made
 * no edit of that field up to there (PROTOCOL.md section 8.1). Parents
 * are stored before the edits that name them (section 7), so the edits
 * kept are exactly the heads of the edits in scope up to compact_until.
 *
 * @e's heads are its field's (record_state): an edit among them is named
 * by no stored edit and is kept without another read, as most edits are
 * (a field edited once). Any other is looked up by itself: the edits
 * that name it are those stored after it, and those stored before it
 * only when it came late (a restored center, section 12), so those are
 * read only when the later ones do not name it. Reading a field's every
 * edit for each page it appears in cost a multiple of the page when a
 * household is visited again and again. 1, 0, or -1 with @error set. */
static int
compacted_away (SqliteTxn *t, const PullEdit *e, const HearthCenterPullQuery *q, PullCompaction *c, GError **error)
{
  g_autofree char *quoted = NULL;
  int named;

  if (e->heads != NULL && heads_hold (e->heads, e->cursor))
    return 0;
  quoted = g_strconcat ("\"", e->hlc, "\"", NULL);
  named = named_in_scope (t, e, q, quoted, TRUE, error);
  if (named == 0)
    named = named_in_scope (t, e, q, quoted, FALSE, error);
  if (named <= 0)
    return named;
  named = own_field (t, e, q, c, error);
  return named < 0 ? -1 : !named;
}

/* A compacted pull's (PROTOCOL.md section 8.1) versions named as parents
 * by the edits in its scope with a cursor up to its compact_until: "tbl\n
 * record_id\nfield\nhlc". Changes are only ever added, and every change
 * up to a cursor a snapshot has seen is in every later snapshot, so the
 * set is the same for each page of that pull: it is built once, at its
 * first page, and kept for the next ones (PULL_NAMED_CACHED pulls). */
struct _PullNamed {
  gint64 compact_until;
  char *scope;         /* the prefixes, then whether the unplaced are in */
  GHashTable *named;   /* borrowed by a page with a reference */
};

/* The pulls whose named versions are kept, at most. */
#define PULL_NAMED_CACHED 4
/* The versions a kept set holds at most, about 150 bytes each (bench-sync's
 * village of 5,000 visits names 25,000): a larger scope's pull looks its
 * edits up one at a time. */
#define PULL_NAMED_MAX 250000

static void
pull_named_free (PullNamed *entry)
{
  g_free (entry->scope);
  g_hash_table_unref (entry->named);
  g_free (entry);
}

static char *
pull_scope_key (const HearthCenterPullQuery *q)
{
  GString *key = g_string_new (NULL);

  for (guint i = 0; q->prefixes[i] != NULL; i++)
    {
      g_string_append (key, q->prefixes[i]);
      g_string_append_c (key, '\n');
    }
  g_string_append (key, q->unplaced ? "+" : "-");
  return g_string_free (key, FALSE);
}

/* The hash of a key of a PullNamed set (named_key()). */
static guint
named_hash (gconstpointer key)
{
  return hearth_str_hash (key);
}

static void
named_key (GString *key, const char *tbl, const char *record_id, const char *field, const char *hlc, gsize hlc_len)
{
  g_string_truncate (key, 0);
  append_bytes (key, tbl, strlen (tbl));
  g_string_append_c (key, '\n');
  append_bytes (key, record_id, strlen (record_id));
  g_string_append_c (key, '\n');
  append_bytes (key, field, strlen (field));
  g_string_append_c (key, '\n');
  append_bytes (key, hlc, hlc_len);
}

/* Adds to @named the versions @parents (a JSON array of @parents_len
 * bytes, as parents_json() writes it) of an edit of (@tbl, @record_id,
 * @field) under @hlc names; FALSE when the set is not worth keeping
 * (read_named()). */
static gboolean
add_named (GHashTable *named, GString *key, const char *tbl, const char *record_id, const char *field, const char *hlc,
           const char *parents, gsize parents_len)
{
  const char *p = parents, *stop = parents + parents_len;

  if (memchr (parents, '\\', parents_len) != NULL || g_hash_table_size (named) >= PULL_NAMED_MAX)
    return FALSE;
  while ((p = memchr (p, '"', (gsize) (stop - p))) != NULL)
    {
      const char *end = memchr (p + 1, '"', (gsize) (stop - p - 1));

      if (end == NULL)
        return FALSE;
      /* An edit does not name itself (named_in_scope() reads others). */
      if ((gsize) (end - p - 1) != strlen (hlc) || strncmp (p + 1, hlc, end - p - 1) != 0)
        {
          named_key (key, tbl, record_id, field, p + 1, (gsize) (end - p - 1));
          g_hash_table_add (named, g_strndup (key->str, key->len));
        }
      p = end + 1;
    }
  return TRUE;
}

/* Adds to @named the versions that the rows of @st in @q's scope name as
 * parents: rows of kind 'edit' as (tbl, record_id, field, hlc, parents,
 * village), and rows of kind 'edits' as (tbl, record_id, NULL, hlc,
 * fields, village), each of whose fields names its parents. FALSE when
 * the set is not worth keeping (read_named()), -1 on failure with
 * @error. */
static int
read_named_rows (SqliteTxn *t, sqlite3_stmt *st, const HearthCenterPullQuery *q, GHashTable *named, GString *key,
                 GError **error)
{
  gboolean usable = TRUE;
  int rc;

  while (usable && (rc = step (t, st, error)) == SQLITE_ROW)
    {
      const char *field = (const char *) sqlite3_column_text (st, 2);
      const char *p = (const char *) sqlite3_column_text (st, 4);
      const char *tbl, *record_id, *hlc;
      EditsMember m;

      /* A row of kind 'edits' names parents when its text holds ',["'
       * (read_named()): looked for here, with memmem (), which took a
       * third of the instructions of SQLite's instr () over the same text
       * (the rows that name none are three in four), before the row's
       * other columns are read. */
      if (field == NULL && (p == NULL || memmem (p, (gsize) sqlite3_column_bytes (st, 4), ",[\"", 3) == NULL))
        continue;
      if (!in_scope ((const char *) sqlite3_column_text (st, 5), q))
        continue;
      tbl = (const char *) sqlite3_column_text (st, 0);
      record_id = (const char *) sqlite3_column_text (st, 1);
      hlc = (const char *) sqlite3_column_text (st, 3);
      if (field != NULL)
        {
          usable = add_named (named, key, tbl, record_id, field, hlc, p, strlen (p));
          continue;
        }
      while (usable && edits_next (&p, &m))
        if (m.parents_len > 2)
          {
            g_autofree char *name = g_strndup (m.name, m.name_len);

            usable = add_named (named, key, tbl, record_id, name, hlc, m.parents, m.parents_len);
          }
    }
  sqlite3_reset (st);
  if (rc < 0)
    return -1;
  return usable;
}

/* Reads the versions that the edits in @q's scope with a cursor up to
 * compact_until name as parents (those of the pulling device too), as
 * named_in_scope() finds them one at a time: village by village from the
 * village index for a scope of few villages (PullWalk), else in one walk
 * of the change log. %NULL without @error when the set is not worth
 * keeping (too large, or a version with an escape: parents_to_json()
 * writes none for versions as the center checks them), and then the page
 * looks its edits up one at a time. Every edit names a village (the
 * center's CHECK), so the unplaced add none. A row of kind 'edits' names
 * parents when its text holds ',["' (inside a JSON string a quote is
 * escaped): only an array of parents that is not empty starts so. */
static GHashTable *
read_named (SqliteTxn *t, const HearthCenterPullQuery *q, GError **error)
{
  /* The columns of both kinds, then which rows name parents: one walk
   * for both kinds (a walk for each read every row of the scope twice,
   * a third of the center's instructions for a fresh village pull's
   * pages besides their gzip). */
#define NAMED_BOTH "SELECT tbl, record_id, CASE kind WHEN 'edit' THEN field END, hlc, " \
                   "CASE kind WHEN 'edit' THEN parents ELSE fields END, village FROM changes "
#define NAMED_BOTH_ROWS " ((kind = 'edit' AND parents <> '[]') OR kind = 'edits')"
#define NAMED_BY_VILLAGE "INDEXED BY changes_by_village WHERE village = ?1 AND cursor <= ?2 AND"
  static const char *const kinds[][2] = {
    { NAMED_BOTH, NAMED_BOTH_ROWS },
  };
  /* The same by village, statements kept by their text's address (stmt()). */
  static const char *const by_village[] = {
    NAMED_BOTH NAMED_BY_VILLAGE NAMED_BOTH_ROWS,
  };
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (t->parent.store);
  g_autoptr(GHashTable) named = g_hash_table_new_full (named_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) key = g_string_new (NULL);
  g_autoptr(GPtrArray) villages = g_ptr_array_new_with_free_func (g_free);
  guint n = g_strv_length ((char **) q->prefixes);
  int usable = 1;

  if (g_atomic_int_get (&self->pull_by_village) && scope_villages (t, q, PULL_WALK_VILLAGES, villages, error))
    {
      for (guint k = 0; usable > 0 && k < G_N_ELEMENTS (kinds); k++)
        {
          sqlite3_stmt *st = stmt (t, by_village[k], error);

          if (st == NULL)
            return NULL;
          for (guint i = 0; usable > 0 && i < villages->len; i++)
            {
              sqlite3_reset (st);
              bind_text (st, 1, villages->pdata[i]);
              sqlite3_bind_int64 (st, 2, q->compact_until);
              usable = read_named_rows (t, st, q, named, key, error);
            }
        }
    }
  else if (error != NULL && *error != NULL)
    return NULL;
  else
    {
      g_autoptr(GString) where = g_string_new ("WHERE cursor <= ? AND (0");

      /* Every village with the prefix, whatever follows it (in_scope()):
       * 0xff is no byte of UTF-8. */
      if (q->unplaced)
        g_string_append (where, " OR village IS NULL");
      if (n > 0)
        {
          g_string_append (where, " OR ");
          append_village_ranges (where, n);
        }
      g_string_append (where, ") AND");
      for (guint k = 0; usable > 0 && k < G_N_ELEMENTS (kinds); k++)
        {
          g_autofree char *sql = g_strconcat (kinds[k][0], where->str, kinds[k][1], NULL);
          sqlite3_stmt *st = NULL;
          int param = 1, rc;

          rc = sqlite3_prepare_v2 (t->conn->db, sql, -1, &st, NULL);
          if (rc != SQLITE_OK)
            {
              txn_fail (t, rc, error);
              return NULL;
            }
          sqlite3_bind_int64 (st, param++, q->compact_until);
          for (guint i = 0; i < n; i++)
            {
              g_autofree char *upper = g_strconcat (q->prefixes[i], "\xff", NULL);
              bind_text (st, param++, q->prefixes[i]);
              bind_text (st, param++, upper);
            }
          usable = read_named_rows (t, st, q, named, key, error);
          sqlite3_finalize (st);
        }
    }
  if (usable <= 0)
    return NULL;
  return g_steal_pointer (&named);
}

/* The versions named in @q's scope up to its compact_until (read_named()),
 * kept from an earlier page of the same pull or read at its first.
 * (transfer full) (nullable): %NULL with @error set on failure, or
 * without: the page looks its edits up one at a time. */
static GHashTable *
pull_named (SqliteTxn *t, const HearthCenterPullQuery *q, GError **error)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (t->parent.store);
  g_autofree char *scope = pull_scope_key (q);
  GHashTable *named = NULL;
  PullNamed *entry;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->pull_named->len && named == NULL; i++)
    {
      entry = g_ptr_array_index (self->pull_named, i);
      if (entry->compact_until == q->compact_until && g_str_equal (entry->scope, scope))
        named = g_hash_table_ref (entry->named);
    }
  g_mutex_unlock (&self->lock);
  /* Read at the first page only: a later one whose pull was forgotten
   * (more pulls at once than are kept) costs no more than it did. */
  if (named != NULL || q->after > 0)
    return named;
  named = read_named (t, q, error);
  if (named == NULL)
    return NULL;
  entry = g_new0 (PullNamed, 1);
  entry->compact_until = q->compact_until;
  entry->scope = g_steal_pointer (&scope);
  entry->named = g_hash_table_ref (named);
  g_mutex_lock (&self->lock);
  if (self->pull_named->len >= PULL_NAMED_CACHED)
    g_ptr_array_remove_index (self->pull_named, 0);
  g_ptr_array_add (self->pull_named, entry);
  g_mutex_unlock (&self->lock);
  return named;
}

/* Whether a compacted page leaves the edit @e out (compacted_away()),
 * by @named when the pull keeps the versions its scope names
 * (pull_named()). 1, 0, or -1 with @error set. */
static int
page_leaves_out (SqliteTxn *t, const PullEdit *e, const HearthCenterPullQuery *q, GHashTable *named, GString *key,
                 PullCompaction *c, GError **error)
{
  int own;

  if (named == NULL)
    return compacted_away (t, e, q, c, error);
  named_key (key, e->tbl, e->record_id, e->field, e->hlc, strlen (e->hlc));
  if (!g_hash_table_contains (named, key->str))
    return 0;
  own = own_field (t, e, q, c, error);
  return own < 0 ? -1 : !own;
}

/* The heads of a field as record_state keeps them (cursors, space-
 * separated) into *@heads ((transfer full), %NULL when the record has no
 * such field); %FALSE with @error when the store fails. */
static gboolean
field_heads (SqliteTxn *t, const char *tbl, const char *record_id, const char *field, char **heads, GError **error)
{
  sqlite3_stmt *st = stmt (t, "SELECT coalesce (state -> ?3 ->> 2, CAST (state -> ?3 ->> 1 AS TEXT)) "
                              "FROM record_state WHERE " RECORD_STATE_IS ("?1", "?2"), error);
  int rc;

  *heads = NULL;
  if (st == NULL)
    return FALSE;
  bind_borrowed (st, 1, tbl);
  bind_borrowed (st, 2, record_id);
  bind_borrowed (st, 3, field);
  rc = step (t, st, error);
  if (rc == SQLITE_ROW)
    *heads = column_text (st, 0);
  sqlite3_reset (st);
  return rc >= 0;
}

/* Appends the field @m of the 'edits' row at @st (CHANGE_COLUMNS) as the
 * edit it holds, as append_change_json() writes a row of kind 'edit':
 * the value and parents are copied as stored (edits_to_json()). */
static void
append_edits_member_json (GString *out, sqlite3_stmt *st, const char *field, const EditsMember *m)
{
  const char *wall = (const char *) sqlite3_column_text (st, 11);

  append_row_head (out, st, "edit");
  append_member (out, "field", field);
  append_literal (out, ",\"value\":");
  append_bytes (out, m->value, m->value_len);
  append_member (out, "hlc", (const char *) sqlite3_column_text (st, 5));
  append_literal (out, ",\"parents\":");
  append_bytes (out, m->parents, m->parents_len);
  if (wall != NULL)
    append_member (out, "wall", wall);
  g_string_append_c (out, '}');
}

/* Appends the head of the 'edits' row at @st (CHANGE_COLUMNS) as a
 * change of kind "edits" up to its "fields" object's opening brace, as
 * hearth_change_append_json() writes one. */
static void
append_edits_head_json (GString *out, sqlite3_stmt *st)
{
  append_row_head (out, st, "edits");
  append_member (out, "hlc", (const char *) sqlite3_column_text (st, 5));
  append_literal (out, ",\"fields\":{");
}

/* Appends the field @m of an 'edits' row as a member of a change's
 * "fields" (hearth_change_append_json()), after a comma when @comma:
 * its value and parents copied as stored (edits_to_json()). */
static void
append_edits_field_json (GString *out, const EditsMember *m, gboolean comma)
{
  if (comma)
    g_string_append_c (out, ',');
  g_string_append_c (out, '"');
  append_bytes (out, m->name, m->name_len);
  append_literal (out, "\":{\"value\":");
  append_bytes (out, m->value, m->value_len);
  append_literal (out, ",\"parents\":");
  append_bytes (out, m->parents, m->parents_len);
  g_string_append_c (out, '}');
}

/* Appends the 'edits' row at @st (CHANGE_COLUMNS) as the edits it holds,
 * each with the row's cursor (@whole unset: PROTOCOL.md section 8, a
 * device of version 1 or 2 reads them so), or as one change of kind
 * "edits" (@whole: section 8.2) holding them; either way those a
 * compacted page leaves out (@compacting) left out, and the row with them
 * all. After a comma when @comma or after another edit. Returns how many
 * field edits were appended, or -1 with @error set. */
static int
append_edits_row (SqliteTxn *t, sqlite3_stmt *st, const HearthCenterPullQuery *q, GHashTable *named, GString *key,
                  PullCompaction *c, gboolean compacting, gboolean whole, gboolean comma, GString *out, GError **error)
{
  const char *p = (const char *) sqlite3_column_text (st, 10);
  PullEdit e = { sqlite3_column_int64 (st, 0), (const char *) sqlite3_column_text (st, 2),
                 (const char *) sqlite3_column_text (st, 3), NULL, (const char *) sqlite3_column_text (st, 5), NULL };
  gsize start = out->len;
  EditsMember m;
  int n = 0;

  if (whole)
    {
      if (comma)
        g_string_append_c (out, ',');
      append_edits_head_json (out, st);
    }
  while (edits_next (&p, &m))
    {
      /* Needed by name to be decided or written as an edit of its own. */
      g_autofree char *field = compacting || !whole ? g_strndup (m.name, m.name_len) : NULL;

      if (compacting)
        {
          g_autofree char *heads = NULL;
          int away;

          if (named == NULL && !field_heads (t, e.tbl, e.record_id, field, &heads, error))
            return -1;
          e.field = field;
          e.heads = heads;
          away = page_leaves_out (t, &e, q, named, key, c, error);
          if (away < 0)
            return -1;
          if (away)
            continue;
        }
      if (whole)
        append_edits_field_json (out, &m, n > 0);
      else
        {
          if (comma || n > 0)
            g_string_append_c (out, ',');
          append_edits_member_json (out, st, field, &m);
        }
      n++;
    }
  if (whole && n == 0)
    g_string_truncate (out, start);   /* every field superseded: the row is left out */
  else if (whole)
    {
      const char *wall = (const char *) sqlite3_column_text (st, 11);

      g_string_append_c (out, '}');
      if (wall != NULL)
        append_member (out, "wall", wall);
      g_string_append_c (out, '}');
    }
  return n;
}

/* A page holds whole rows: the edits of a row of kind 'edits' share its
 * cursor, so the page that lists one lists them all, even when that
 * passes @limit (by HEARTH_CHANGE_MAX_FIELDS - 1 at most) or, as the
 * page's first row, max_bytes (PROTOCOL.md section 8). The limit counts
 * field edits, whether a row's are listed one by one or as the row
 * (whole_edits, section 8.2): a page of either form ends at the same row,
 * unless max_bytes ends one of them first.
 * *@listed: the field edits and records listed. */
static gboolean
sqlite_pull_page (HearthCenterTxn *txn, const HearthCenterPullQuery *q, GString *out, guint *listed, gint64 *last,
                  gboolean *more, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (t->parent.store);
  g_autoptr(GHashTable) named = NULL;
  g_autoptr(GString) key = g_string_new (NULL);
  PullCompaction compaction = { -1, NULL };
  PullWalk walk = { NULL, -1 };
  sqlite3_stmt *st;
  gboolean failed = FALSE;

  *listed = 0;
  *last = q->after;
  *more = FALSE;
  if (!states_flush (t, error))
    return FALSE;
  if (q->compact_until > q->after)
    {
      named = pull_named (t, q, error);
      if (named == NULL && error != NULL && *error != NULL)
        return FALSE;
    }
  /* Column 12: the heads of an edit's field, when the page looks its
   * edits up one at a time (compacted_away()); an 'edits' row's fields
   * are looked up one by one (field_heads()). */
  if (!pull_walk_start (t, &walk, q,
                        named != NULL ? CHANGE_COLUMNS ", NULL + ?1"
                                      : CHANGE_COLUMNS ", CASE WHEN kind = 'edit' AND cursor <= ?1 THEN ("
                                        "SELECT coalesce (json_extract (r.state, '$.\"' || changes.field || '\"[2]'), "
                                        "json_extract (r.state, '$.\"' || changes.field || '\"[1]')) "
                                        "FROM record_state r WHERE r.rkey = changes.ikey >> 16 "
                                        "AND r.tbl = changes.tbl AND r.record_id = changes.record_id) END",
                        g_atomic_int_get (&self->pull_by_village), error))
    {
      pull_walk_clear (&walk);
      return FALSE;
    }
  while ((st = pull_walk_next (t, &walk, &failed, error)) != NULL)
    {
      gint64 cursor = sqlite3_column_int64 (st, 0);
      const char *kind = (const char *) sqlite3_column_text (st, 1);
      gboolean compacting = q->compact_until > 0 && cursor <= q->compact_until;
      gsize before = out->len;
      int n = 1;

      if (*listed >= q->limit)
        {
          *more = TRUE;
          break;
        }
      if (g_strcmp0 (kind, "edits") == 0)
        n = append_edits_row (t, st, q, named, key, &compaction, compacting, q->whole_edits, *listed > 0, out, error);
      else
        {
          if (compacting && g_strcmp0 (kind, "edit") == 0)
            {
              PullEdit e = { cursor, (const char *) sqlite3_column_text (st, 2),
                             (const char *) sqlite3_column_text (st, 3), (const char *) sqlite3_column_text (st, 4),
                             (const char *) sqlite3_column_text (st, 5), (const char *) sqlite3_column_text (st, 12) };

              n = page_leaves_out (t, &e, q, named, key, &compaction, error);
              n = n < 0 ? -1 : !n;
            }
          if (n > 0)
            {
              if (*listed > 0)
                g_string_append_c (out, ',');
              append_change_json (out, st);
            }
        }
      if (n < 0)
        {
          failed = TRUE;
          break;
        }
      if (n == 0)
        {
          *last = cursor;
          continue;
        }
      /* The page stops at max_bytes, but always carries one row. */
      if (*listed > 0 && out->len > q->max_bytes)
        {
          g_string_truncate (out, before);
          *more = TRUE;
          break;
        }
      *listed += (guint) n;
      *last = cursor;
    }
  pull_walk_clear (&walk);
  g_clear_pointer (&compaction.own, g_hash_table_unref);
  return !failed;
}

static gint64
sqlite_last_cursor (HearthCenterTxn *txn, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "SELECT coalesce (max (cursor), 0) FROM changes", error);
  gint64 last = -1;

  if (st == NULL)
    return -1;
  if (step (t, st, error) == SQLITE_ROW)
    last = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  return last;
}

/* The first change received at or after ?1 is looked for from the first
 * cursor of the transactions whose receipts reach ?1
 * (0020-change-receipts.sql), or past the last receipt (changes written
 * by hand), in cursor order: each change's own time decides. */
static gint64
sqlite_last_cursor_before (HearthCenterTxn *txn, gint64 until_ms, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "SELECT coalesce ((SELECT cursor - 1 FROM changes WHERE cursor >= coalesce ("
                              "(SELECT min (first_cursor) FROM change_receipts WHERE last_received >= ?1), "
                              "(SELECT coalesce (max (last_cursor), 0) + 1 FROM change_receipts)) "
                              "AND received_at >= ?1 ORDER BY cursor LIMIT 1), "
                              "(SELECT coalesce (max (cursor), 0) FROM changes))", error);
  gint64 last = -1;

  if (st == NULL)
    return -1;
  sqlite3_bind_int64 (st, 1, until_ms);
  if (step (t, st, error) == SQLITE_ROW)
    last = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  return last;
}

/* ---- epoch and restore point (PROTOCOL.md section 12) ----------------------------- */

static gboolean
sqlite_get_epoch (HearthCenterTxn *txn, char **epoch, gint64 *restore_cursor, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "SELECT epoch, restore_cursor FROM center_epoch WHERE only_row = 1", error);
  int rc;

  if (st == NULL)
    return FALSE;
  rc = step (t, st, error);
  if (rc == SQLITE_ROW)
    {
      *epoch = column_text (st, 0);
      *restore_cursor = sqlite3_column_int64 (st, 1);
    }
  sqlite3_reset (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc >= 0)
    g_set_error_literal (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                         "the store has no epoch");
  return FALSE;
}

static gboolean
sqlite_get_batch_key (HearthCenterTxn *txn, guint8 *seed, guint8 *public_key, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "SELECT seed, public_key FROM batch_signing_key WHERE only_row = 1", error);
  int rc;

  if (st == NULL)
    return FALSE;
  rc = step (t, st, error);
  if (rc == SQLITE_ROW)
    {
      memcpy (seed, sqlite3_column_blob (st, 0), crypto_sign_SEEDBYTES);
      memcpy (public_key, sqlite3_column_blob (st, 1), crypto_sign_PUBLICKEYBYTES);
    }
  sqlite3_reset (st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc >= 0)
    g_set_error_literal (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                         _("the center's store has no batch signing key"));
  return FALSE;
}

static int
sqlite_take_late_parent (HearthCenterTxn *txn, const char *table, const char *id, const char *field,
                         const char *hlc, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  /* Dangling (no stored edit under it), on a restored store, and named by
   * edits stored after the restore point only: the restore lost it. */
  sqlite3_stmt *st = stmt (t, "SELECT 1 FROM field_dangling, center_epoch e WHERE tbl = ?1 AND record_id = ?2 "
                              "AND field = ?3 AND hlc = ?4 AND e.only_row = 1 AND e.restore_cursor > 0 "
                              "AND NOT EXISTS (SELECT 1 FROM changes n INDEXED BY changes_by_key "
                              "WHERE n.ikey = ?5 AND n.kind = 'edit' AND n.tbl = ?1 "
                              "AND n.record_id = ?2 AND n.field = ?3 AND n.cursor <= e.restore_cursor "
                              "AND instr (n.parents, '\"' || ?4 || '\"') > 0) "
                              "AND NOT EXISTS (SELECT 1 FROM changes n " BOUND_EDITS_ROWS_WHERE
                              "n.cursor <= e.restore_cursor AND instr (n.fields, '\"' || ?4 || '\"') > 0 "
                              "AND instr (n.fields -> ?3 ->> 1, '\"' || ?4 || '\"') > 0)", error);
  int rc;

  if (st == NULL || !bind_edit_keys (t, st, table, id, field, hlc, error))
    return -1;
  rc = step (t, st, error);
  sqlite3_reset (st);
  if (rc != SQLITE_ROW)
    return rc < 0 ? -1 : 0;
  st = stmt (t, "DELETE FROM field_dangling WHERE tbl = ? AND record_id = ? AND field = ? AND hlc = ?", error);
  if (st == NULL)
    return -1;
  bind_text (st, 1, table);
  bind_text (st, 2, id);
  bind_text (st, 3, field);
  bind_text (st, 4, hlc);
  return run (t, st, error) ? 1 : -1;
}

/* ---- the center's own changes ------------------------------------------------------ */

static gboolean
sqlite_get_own (HearthCenterTxn *txn, gint64 *last_seq, char **last_hlc, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "SELECT last_seq, last_hlc FROM center_own WHERE only_row = 1", error);
  int rc;

  *last_seq = 0;
  *last_hlc = NULL;
  if (st == NULL || (rc = step (t, st, error)) < 0)
    return FALSE;
  if (rc == SQLITE_ROW)
    {
      *last_seq = sqlite3_column_int64 (st, 0);
      *last_hlc = column_text (st, 1);
    }
  sqlite3_reset (st);
  return TRUE;
}

static gboolean
sqlite_set_own (HearthCenterTxn *txn, gint64 last_seq, const char *last_hlc, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st = stmt (t, "INSERT INTO center_own (only_row, last_seq, last_hlc) VALUES (1, ?, ?) "
                              "ON CONFLICT (only_row) DO UPDATE SET last_seq = excluded.last_seq, "
                              "last_hlc = excluded.last_hlc", error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, last_seq);
  bind_text (st, 2, last_hlc);
  return run (t, st, error);
}

/* The records looked up by value: record_state.lookup, a household's
 * registry_no or a member's id_number unless it is deleted
 * (schema/center/0012-record-state.sql), under one partial index. */
static char *
sqlite_find_by_value (HearthCenterTxn *txn, const char *table, const char *field, const char *value, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  sqlite3_stmt *st;
  char *found = NULL;

  if (!((strcmp (table, "households") == 0 && strcmp (field, "registry_no") == 0) ||
        (strcmp (table, "members") == 0 && strcmp (field, "id_number") == 0)))
    {
      g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED,
                   "the center looks up %s.%s by value, which it keeps no index of", table, field);
      return NULL;
    }
  if (!states_flush (t, error))
    return NULL;
  st = stmt (t, "SELECT record_id FROM record_state WHERE tbl = ?1 AND lookup = ?2 ORDER BY record_id LIMIT 1", error);
  if (st == NULL)
    return NULL;
  bind_borrowed (st, 1, table);
  bind_text (st, 2, value);
  if (step (t, st, error) == SQLITE_ROW)
    found = column_text (st, 0);
  sqlite3_reset (st);
  return found;
}

/* ---- exports ------------------------------------------------------------------------ */

/* The changes of a range: parameters ?1 table, ?2 after, ?3 last, ?4 from,
 * ?5 until, ?6 and ?7 the village range of the prefix, ?8 and ?9 the
 * cursors the receipts of those dates span (range_cursors()), read in
 * the change log's order. */
#define RANGE_WHERE "tbl = ?1 AND cursor > ?2 AND cursor <= ?3 AND received_at >= ?4 AND received_at < ?5 " \
                    "AND village >= ?6 AND village < ?7 AND cursor >= ?8 AND cursor <= ?9"

/* The cursors [*@first, *@last] among which lie the changes received in
 * @r's dates (0020-change-receipts.sql): those of the transactions whose
 * receipts meet the dates, and every change above the last receipt (one
 * written by hand). *@first > *@last: none. */
static gboolean
range_cursors (SqliteTxn *t, const HearthCenterRange *r, gint64 *first, gint64 *last, GError **error)
{
  sqlite3_stmt *st = stmt (t, "SELECT (SELECT min (first_cursor) FROM change_receipts WHERE last_received >= ?1 "
                              "AND first_received < ?2), (SELECT max (last_cursor) FROM change_receipts "
                              "WHERE last_received >= ?1 AND first_received < ?2), "
                              "(SELECT coalesce (max (last_cursor), 0) FROM change_receipts), "
                              "(SELECT coalesce (max (cursor), 0) FROM changes)", error);
  gint64 tail, top;
  gboolean met;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, r->from_ms);
  sqlite3_bind_int64 (st, 2, r->until_ms);
  if (step (t, st, error) != SQLITE_ROW)
    {
      sqlite3_reset (st);
      return FALSE;
    }
  met = sqlite3_column_type (st, 0) != SQLITE_NULL;
  *first = met ? sqlite3_column_int64 (st, 0) : 1;
  *last = met ? sqlite3_column_int64 (st, 1) : 0;
  tail = sqlite3_column_int64 (st, 2);
  top = sqlite3_column_int64 (st, 3);
  sqlite3_reset (st);
  if (top > tail)
    {
      if (!met)
        *first = tail + 1;
      *last = top;
    }
  return TRUE;
}

static void
bind_range (sqlite3_stmt *st, const char *table, const HearthCenterRange *r, gint64 first, gint64 last)
{
  g_autofree char *upper = g_strconcat (r->prefix, ":", NULL);

  bind_text (st, 1, table);
  sqlite3_bind_int64 (st, 2, r->after_cursor);
  sqlite3_bind_int64 (st, 3, r->last_cursor);
  sqlite3_bind_int64 (st, 4, r->from_ms);
  sqlite3_bind_int64 (st, 5, r->until_ms);
  bind_text (st, 6, r->prefix);
  bind_text (st, 7, upper);
  sqlite3_bind_int64 (st, 8, first);
  sqlite3_bind_int64 (st, 9, last);
}

static GPtrArray *
column_list (SqliteTxn *t, sqlite3_stmt *st, GError **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
  int rc;

  while ((rc = step (t, st, error)) == SQLITE_ROW)
    g_ptr_array_add (list, column_text (st, 0));
  sqlite3_reset (st);
  return rc < 0 ? NULL : g_steal_pointer (&list);
}

static GPtrArray *
sqlite_list_touched (HearthCenterTxn *txn, const char *table, const HearthCenterRange *range, GPtrArray **fields,
                     GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  g_autoptr(GPtrArray) ids = NULL;
  sqlite3_stmt *st;
  gint64 first, last;

  if (fields != NULL)
    *fields = NULL;
  if (!range_cursors (t, range, &first, &last, error))
    return NULL;
  st = stmt (t, "SELECT record_id FROM changes WHERE " RANGE_WHERE " GROUP BY record_id "
                "ORDER BY min (cursor), record_id", error);
  if (st == NULL)
    return NULL;
  bind_range (st, table, range, first, last);
  ids = column_list (t, st, error);
  if (ids == NULL || fields == NULL)
    return g_steal_pointer (&ids);

  /* A mutable record's fields are its merged ones, an immutable record's
   * its own. A state that is not JSON (a damaged row) adds none here:
   * reading its fields fails, naming the record (list_field_states). */
  if (!states_flush (t, error))
    return NULL;
  st = stmt (t, "SELECT DISTINCT j.key FROM record_state r, json_each (iif (json_valid (r.state), r.state, '{}')) j "
                "WHERE r.tbl = ?1 "
                "AND r.rkey IN (SELECT ikey >> 16 FROM changes WHERE " RANGE_WHERE " AND kind <> 'record') "
                "UNION SELECT DISTINCT j.key FROM changes c, json_each (hearth_fields (c.fields, c.cursor)) j "
                "WHERE " RANGE_WHERE " AND c.kind = 'record' ORDER BY 1", error);
  if (st == NULL)
    return NULL;
  bind_range (st, table, range, first, last);
  *fields = column_list (t, st, error);
  if (*fields == NULL)
    {
      /* SQLite's JSON error names no row: a record's fields stored as text
       * that is not JSON (a damaged row) is looked for, to name it. Only
       * on failure: the query costs a JSON parse a record. */
      g_autoptr(GError) local = NULL;

      st = stmt (t, "SELECT cursor FROM changes WHERE " RANGE_WHERE " AND kind = 'record' "
                    "AND NOT json_valid (hearth_fields (fields, cursor)) ORDER BY cursor LIMIT 1", &local);
      if (st != NULL)
        {
          bind_range (st, table, range, first, last);
          if (step (t, st, &local) == SQLITE_ROW)
            {
              g_autofree char *cursor = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (st, 0));

              g_prefix_error (error, _("change %s: a record's stored fields are not JSON: "), cursor);
            }
          sqlite3_reset (st);
        }
      return NULL;
    }
  return g_steal_pointer (&ids);
}

static GPtrArray *
sqlite_list_field_states (HearthCenterTxn *txn, const char *table, const char *id, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_change_free);
  /* A field's version, household and village are those of its winning
   * edit, found by its cursor (0012-record-state.sql). */
  sqlite3_stmt *st;
  int rc;

  if (!states_flush (t, error))
    return NULL;
  /* Only an array member is read by ->> (on a string member's text it
   * fails); a member without a value or cursor (a damaged row) is left
   * out, as the writer leaves it out (state_read_row()). */
  st = stmt (t, "SELECT j.key, iif (j.type = 'array', j.value ->> 0, NULL), c.hlc, c.household, c.village, "
                "iif (j.type = 'array', j.value ->> 1, NULL) IS NULL FROM record_state r, json_each (r.state) j "
                "LEFT JOIN changes c ON c.cursor = iif (j.type = 'array', j.value ->> 1, NULL) "
                "WHERE r.idkey = hearth_record_key (?1, ?2) AND r.tbl = ?1 AND r.record_id = ?2 ORDER BY j.key",
             error);
  if (st == NULL)
    return NULL;
  bind_text (st, 1, table);
  bind_text (st, 2, id);
  while ((rc = step (t, st, error)) == SQLITE_ROW)
    {
      HearthChange *c;

      if (sqlite3_column_type (st, 1) == SQLITE_NULL || sqlite3_column_int (st, 5) != 0)
        {
          g_warning ("record_state of %s %s: the field %s has no value or cursor (a damaged row): left out", table,
                     id, (const char *) sqlite3_column_text (st, 0));
          continue;
        }
      c = hearth_change_new (HEARTH_CHANGE_EDIT);

      c->table = g_strdup (table);
      c->id = g_strdup (id);
      c->field = column_text (st, 0);
      c->value = column_text (st, 1);
      c->hlc = column_text (st, 2);
      c->household = column_text (st, 3);
      c->village = column_text (st, 4);
      g_ptr_array_add (list, c);
    }
  sqlite3_reset (st);
  if (rc < 0)
    {
      g_prefix_error (error, _("The merged state of record %s of %s is damaged: "), id, table);
      return NULL;
    }
  return g_steal_pointer (&list);
}

static GPtrArray *
sqlite_list_conflicts (HearthCenterTxn *txn, const char *table, const char *id, GError **error)
{
  SqliteTxn *t = (SqliteTxn *) txn;
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) hearth_center_conflict_free);
  sqlite3_stmt *st;
  int rc;

  if (!states_flush (t, error))
    return NULL;
  st = stmt (t, "SELECT c.id, c.field, c.household, c.village, c.winner_hlc, "
                "json_extract (f.state, '$.\"' || c.field || '\"[0]'), c.loser_hlc, c.loser_value FROM conflicts c "
                "LEFT JOIN record_state f ON f.idkey = hearth_record_key (c.tbl, c.record_id) AND f.tbl = c.tbl "
                "AND f.record_id = c.record_id "
                "WHERE c.tbl = ? AND c.record_id = ? ORDER BY c.field, c.id", error);
  if (st == NULL)
    return NULL;
  bind_text (st, 1, table);
  bind_text (st, 2, id);
  while ((rc = step (t, st, error)) == SQLITE_ROW)
    {
      HearthCenterConflict *c = g_new0 (HearthCenterConflict, 1);

      c->id = column_text (st, 0);
      c->table = g_strdup (table);
      c->record_id = g_strdup (id);
      c->field = column_text (st, 1);
      c->household = column_text (st, 2);
      c->village = column_text (st, 3);
      c->winner_hlc = column_text (st, 4);
      c->winner_value = column_text (st, 5);
      c->loser_hlc = column_text (st, 6);
      c->loser_value = column_text (st, 7);
      g_ptr_array_add (list, c);
    }
  sqlite3_reset (st);
  return rc < 0 ? NULL : g_steal_pointer (&list);
}

/* ---- backup ------------------------------------------------------------------ */

static gboolean
backup_failed (const char *path, const char *what, const char *why, GError **error)
{
  g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_FAILED, _("the backup %s: %s: %s"), path,
               what, why);
  return FALSE;
}

/* fsync of the file or folder at @path. */
static gboolean
sync_path (const char *path, int flags)
{
  int fd = open (path, flags | O_CLOEXEC);
  gboolean ok = fd >= 0 && fsync (fd) == 0;

  if (fd >= 0)
    close (fd);
  return ok;
}

static gboolean
backup_new_epoch (sqlite3 *db)
{
  g_autofree char *uuid = g_uuid_string_random ();
  GString *epoch = g_string_new (NULL);
  sqlite3_stmt *st = NULL;
  int rc = SQLITE_ERROR;

  for (const char *p = uuid; *p != '\0'; p++)
    if (*p != '-')
      g_string_append_c (epoch, *p);
  if (sqlite3_prepare_v2 (db, "UPDATE center_epoch SET epoch = ?, restore_cursor = "
                              "(SELECT coalesce (max (cursor), 0) FROM changes) WHERE only_row = 1",
                          -1, &st, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (st, 1, epoch->str, -1, SQLITE_TRANSIENT);
      rc = sqlite3_step (st);
    }
  sqlite3_finalize (st);
  g_string_free (epoch, TRUE);
  return rc == SQLITE_DONE && sqlite3_changes (db) == 1;
}

/* SQLite's online backup from a connection of its own, in one step: one
 * read transaction, so one consistent snapshot; in WAL mode it blocks no
 * writer. The copy goes to PATH.part and is renamed once it is checked and
 * synced. */
static gboolean
sqlite_backup (HearthCenterStore *store, const char *path, GError **error)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (store);
  g_autofree char *part = g_strconcat (path, ".part", NULL);
  g_autofree char *folder = g_path_get_dirname (path);
  sqlite3 *src = NULL, *dst = NULL;
  sqlite3_backup *b;
  sqlite3_stmt *st = NULL;
  g_autofree char *check = NULL;
  gboolean ok = FALSE;
  int rc;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HEARTH_CENTER_STORE_ERROR, HEARTH_CENTER_STORE_ERROR_EXISTS,
                   _("the backup %s exists already: give a new file"), path);
      return FALSE;
    }
  g_unlink (part);
  /* The copy holds what the store holds: readable by its owner only, as
   * the store is, whatever the umask (SQLite's own files take the mode of
   * the database file). */
  {
    int fd = g_open (part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0)
      {
        int saved = errno;

        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), _("the backup %s cannot be made: %s"),
                     part, g_strerror (saved));
        return FALSE;
      }
    close (fd);
  }
  if (sqlite3_open_v2 (self->path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    {
      backup_failed (path, self->path, sqlite3_errmsg (src), error);
      goto out;
    }
  sqlite3_busy_timeout (src, BUSY_TIMEOUT_MS);
  if (sqlite3_open_v2 (part, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK)
    {
      backup_failed (path, part, sqlite3_errmsg (dst), error);
      goto out;
    }
  b = sqlite3_backup_init (dst, "main", src, "main");
  if (b == NULL)
    {
      backup_failed (path, part, sqlite3_errmsg (dst), error);
      goto out;
    }
  rc = sqlite3_backup_step (b, -1);
  sqlite3_backup_finish (b);
  if (rc != SQLITE_DONE)
    {
      backup_failed (path, _("copying"), sqlite3_errstr (rc), error);
      goto out;
    }
  /* The copy holds nothing a power cut could take from the store. */
  {
    g_autoptr(GError) local = NULL;

    if (!snapshot_durable (self, &local))
      {
        backup_failed (path, _("copying"), local->message, error);
        goto out;
      }
  }
  /* The copy is another epoch, restored at its last cursor (PROTOCOL.md
   * section 12): a device that meets it sends again what it made since. */
  if (!backup_new_epoch (dst))
    {
      backup_failed (path, _("giving the copy a new epoch"), sqlite3_errmsg (dst), error);
      goto out;
    }
  /* The copy checked page by page; then out of WAL mode, one file. */
  if (sqlite3_prepare_v2 (dst, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW)
    check = g_strdup ((const char *) sqlite3_column_text (st, 0));
  sqlite3_finalize (st);
  if (g_strcmp0 (check, "ok") != 0)
    {
      backup_failed (path, _("the integrity check of the copy"), check != NULL ? check : sqlite3_errmsg (dst), error);
      goto out;
    }
  if (sqlite3_exec (dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
    {
      backup_failed (path, part, sqlite3_errmsg (dst), error);
      goto out;
    }
  sqlite3_close (dst);
  dst = NULL;
  if (!sync_path (part, O_RDONLY) || g_rename (part, path) != 0 || !sync_path (folder, O_RDONLY | O_DIRECTORY))
    {
      backup_failed (path, _("writing it to disk"), g_strerror (errno), error);
      goto out;
    }
  ok = TRUE;
out:
  if (dst != NULL)
    sqlite3_close (dst);
  if (src != NULL)
    sqlite3_close (src);
  if (!ok)
    g_unlink (part);
  return ok;
}

static void
hearth_center_store_sqlite_iface_init (HearthCenterStoreInterface *iface)
{
  iface->begin = sqlite_begin;
  iface->commit = sqlite_commit;
  iface->rollback = sqlite_rollback;
  iface->commit_deferred = sqlite_commit_deferred;
  iface->pipeline = sqlite_pipeline;
  iface->wait_durable = sqlite_wait_durable;
  iface->savepoint = sqlite_savepoint;
  iface->backup = sqlite_backup;
  iface->get_county = sqlite_get_county;
  iface->set_county = sqlite_set_county;
  iface->add_user = sqlite_add_user;
  iface->get_user = sqlite_get_user;
  iface->add_code = sqlite_add_code;
  iface->get_code = sqlite_get_code;
  iface->use_code = sqlite_use_code;
  iface->add_device = sqlite_add_device;
  iface->get_device = sqlite_get_device;
  iface->list_devices = sqlite_list_devices;
  iface->save_device = sqlite_save_device;
  iface->add_nonce = sqlite_add_nonce;
  iface->nonce_seen = sqlite_nonce_seen;
  iface->get_outcome = sqlite_get_outcome;
  iface->add_outcome = sqlite_add_outcome;
  iface->find_clamped = sqlite_find_clamped;
  iface->find_record = sqlite_find_record;
  iface->find_edit = sqlite_find_edit;
  iface->edit_named = sqlite_edit_named;
  iface->add_change = sqlite_add_change;
  iface->prepare_change = sqlite_prepare_change;
  iface->note_prepared = sqlite_note_prepared;
  iface->list_heads = sqlite_list_heads;
  iface->set_field_state = sqlite_set_field_state;
  iface->get_household_village = sqlite_get_household_village;
  iface->set_household_village = sqlite_set_household_village;
  iface->get_record_household = sqlite_get_record_household;
  iface->pull_page = sqlite_pull_page;
  iface->last_cursor = sqlite_last_cursor;
  iface->last_cursor_before = sqlite_last_cursor_before;
  iface->get_own = sqlite_get_own;
  iface->set_own = sqlite_set_own;
  iface->find_by_value = sqlite_find_by_value;
  iface->list_touched = sqlite_list_touched;
  iface->list_field_states = sqlite_list_field_states;
  iface->list_conflicts = sqlite_list_conflicts;
  iface->get_epoch = sqlite_get_epoch;
  iface->get_batch_key = sqlite_get_batch_key;
  iface->take_late_parent = sqlite_take_late_parent;
}

/* ---- tests' hooks (center-store-private.h) ----------------------------------------- */

gboolean
hearth_center_txn_filters_private (HearthCenterTxn *txn)
{
  return writer_filters ((SqliteTxn *) txn);
}

void
hearth_center_store_filters_hold_private (HearthCenterStore *store, gboolean hold)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (store);

  g_mutex_lock (&self->filter_hold_lock);
  self->filter_hold = hold;
  g_cond_broadcast (&self->filter_hold_cond);
  g_mutex_unlock (&self->filter_hold_lock);
}

void
hearth_center_store_filters_held_private (HearthCenterStore *store)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (store);

  g_mutex_lock (&self->filter_hold_lock);
  while (!self->filter_held)
    g_cond_wait (&self->filter_hold_cond, &self->filter_hold_lock);
  g_mutex_unlock (&self->filter_hold_lock);
}

void
hearth_center_store_filters_wait_private (HearthCenterStore *store)
{
  HearthCenterStoreSqlite *self = HEARTH_CENTER_STORE_SQLITE (store);

  g_rec_mutex_lock (&self->write_lock);
  while (self->filter_build != NULL && !g_atomic_int_get (&self->filter_build->done))
    g_usleep (1000);
  g_rec_mutex_unlock (&self->write_lock);
}

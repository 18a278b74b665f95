/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * store-vfs.c: "encvfs", an SQLite VFS shim that encrypts every page.
 *
 * Design (../shared/design/encrypted-store.md, sections 3 and 6):
 *
 * - Pages are 4096 bytes with 40 reserved bytes at the end. On disk a page
 *   is [data 0..4056)[nonce 24][tag 16]: XChaCha20-Poly1305 with a fresh
 *   random nonce on every write, so a rewrite never reuses a keystream,
 *   whatever crashes, rollbacks or backup restores happen.
 * - Associated data: "encvfs1", the page layout ('H' for page 1 of the
 *   main file, whose header stays plaintext; 'P' for every other page),
 *   the database's 16-byte file id and the page number (big endian); for
 *   the 'H' layout also the plaintext header bytes 16-23. A page moved to
 *   another position or another database fails authentication. The file
 *   kind is deliberately not in it: a checkpoint can then copy a WAL
 *   frame's ciphertext into the database file as it is, instead of
 *   decrypting and encrypting it again (an old version of a page can be put
 *   back at its own position either way: there is no freshness).
 * - Before a checkpoint writes its first page into the database file, every
 *   WAL frame it may copy is authenticated. A damaged frame then stops the
 *   checkpoint before the database file changes; otherwise the pages copied
 *   before it (from later transactions too) would stay in the database while
 *   recovery truncates the log at the damaged frame. That pass checks the
 *   tags only; the pages the checkpoint then copies from those frames are
 *   neither checked again nor decrypted: SQLite only writes what it read
 *   back to the database file, so it is handed the frame's ciphertext, which
 *   goes through as it is (checkpoint_copy_read(), main_write()).
 * - Page 1 of the main file keeps the file id in bytes 0-15 (SQLite sees
 *   "SQLite format 3\0" there) and bytes 16-23 (page size, versions,
 *   reserve) in plaintext, because SQLite reads them before taking a lock.
 * - SQLite always sees plaintext with the reserve zeroed: WAL frame
 *   checksums cover the whole page, reserve included (pitfall P3).
 * - Fail closed: a write whose shape is not understood is refused with
 *   SQLITE_IOERR_WRITE and never reaches the disk in plaintext; temporary
 *   files are refused (the store runs with temp_store=MEMORY); mmap is
 *   never used (xFetch answers "no mapping").
 * - A page that fails authentication is SQLITE_CORRUPT, logged with the
 *   file, page and offset, never garbage. The exceptions are the ones SQLite
 *   needs to recover from crashes: the unlocked 100-byte header read at
 *   open (P1) and whole-frame reads during WAL recovery (P2), which answer
 *   zeros so that SQLite's own checks reject the torn data.
 *
 * - WAL frames appended in a row are held back in memory (up to 256) and
 *   encrypted together, on two threads, before they are written where
 *   SQLite put them; every sync, read, size, truncate, close, checkpoint,
 *   commit frame and release of the write lock writes them first, so the
 *   file's bytes and their order against xSync are those of writing each
 *   frame at once (wal_hold()).
 *
 * Threading: a file object is used by one connection at a time (SQLite's
 * own mutexes); the key table and counters are process-wide and locked.
 */
#define G_LOG_DOMAIN "hearth-store"

#include "store-vfs.h"
#include "store-error.h"

#include <sodium.h>
#include <string.h>

#define P HEARTH_PAGE_SIZE
#define R HEARTH_PAGE_RESERVE
#define DATA_BYTES (P - R)                 /* 4056 */
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  /* 24 */
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES       /* 16 */
#define WAL_HEADER 32
#define WAL_FRAME_HEADER 24
#define WAL_FRAME (P + WAL_FRAME_HEADER)
#define WAL_CKPT_LOCK 1                    /* wal.c: WAL_CKPT_LOCK */
#define WAL_RECOVER_LOCK 2                 /* wal.c: WAL_RECOVER_LOCK */
#define WAL_SHM_MX_FRAME 16                /* wal.c: WalIndexHdr.mxFrame, first copy */
#define WAL_SHM_SALT 32                    /* wal.c: WalIndexHdr.aSalt */
#define WAL_SHM_BACKFILL 96                /* wal.c: WalCkptInfo.nBackfill */
#define AD_MAX (7 + 1 + HEARTH_FILE_ID_SIZE + 4 + 8)

G_STATIC_ASSERT (NONCE_BYTES + TAG_BYTES == R);

static const char sqlite_magic[16] = "SQLite format 3";

/* ---- keys ------------------------------------------------------------ */

struct _HearthPageKey {
  gatomicrefcount ref;
  guint8 file_id[HEARTH_FILE_ID_SIZE];
  guint8 *key;  /* sodium_malloc, read-only after derivation */
};

HearthPageKey *
hearth_page_key_new (const guint8 *data_key,
                     const guint8 *file_id)
{
  HearthPageKey *self;
  guint8 *key;

  key = sodium_malloc (crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  if (key == NULL)
    return NULL;
  G_STATIC_ASSERT (crypto_aead_xchacha20poly1305_ietf_KEYBYTES == crypto_kdf_KEYBYTES);
  if (crypto_kdf_derive_from_key (key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
                                  1, "encvfsPG", data_key) != 0)
    {
      sodium_free (key);
      return NULL;
    }
  sodium_mprotect_readonly (key);

  self = g_new0 (HearthPageKey, 1);
  g_atomic_ref_count_init (&self->ref);
  memcpy (self->file_id, file_id, HEARTH_FILE_ID_SIZE);
  self->key = key;
  return self;
}

HearthPageKey *
hearth_page_key_ref (HearthPageKey *key)
{
  g_atomic_ref_count_inc (&key->ref);
  return key;
}

void
hearth_page_key_unref (HearthPageKey *key)
{
  if (key != NULL && g_atomic_ref_count_dec (&key->ref))
    {
      sodium_free (key->key);
      g_free (key);
    }
}

const guint8 *
hearth_page_key_get_file_id (HearthPageKey *key)
{
  return key->file_id;
}

static GMutex key_table_lock;
static GHashTable *key_table;  /* token -> HearthPageKey */

char *
hearth_vfs_key_attach (HearthPageKey *key)
{
  guint8 raw[16];
  char *token;

  randombytes_buf (raw, sizeof raw);
  token = g_malloc (sizeof raw * 2 + 1);
  sodium_bin2hex (token, sizeof raw * 2 + 1, raw, sizeof raw);

  g_mutex_lock (&key_table_lock);
  if (key_table == NULL)
    key_table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) hearth_page_key_unref);
  g_hash_table_insert (key_table, g_strdup (token), hearth_page_key_ref (key));
  g_mutex_unlock (&key_table_lock);
  return token;
}

void
hearth_vfs_key_detach (const char *token)
{
  if (token == NULL)
    return;
  g_mutex_lock (&key_table_lock);
  if (key_table != NULL)
    g_hash_table_remove (key_table, token);
  g_mutex_unlock (&key_table_lock);
}

static HearthPageKey *
key_lookup (const char *token)
{
  HearthPageKey *key = NULL;

  if (token == NULL)
    return NULL;
  g_mutex_lock (&key_table_lock);
  if (key_table != NULL)
    key = g_hash_table_lookup (key_table, token);
  if (key != NULL)
    hearth_page_key_ref (key);
  g_mutex_unlock (&key_table_lock);
  return key;
}

char *
hearth_vfs_build_uri (const char *path,
                      const char *token)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *abs = NULL;
  g_autofree char *escaped = NULL;

  abs = g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (cwd, path, NULL);
  escaped = g_uri_escape_string (abs, "/", FALSE);
  if (token != NULL)
    return g_strdup_printf ("file:%s?vfs=" HEARTH_VFS_NAME "&" HEARTH_VFS_KEY_PARAM "=%s",
                            escaped, token);
  return g_strdup_printf ("file:%s?vfs=" HEARTH_VFS_NAME, escaped);
}

/* ---- statistics ------------------------------------------------------ */

static GMutex stats_lock;
static HearthVfsStats stats;

#define STAT_ADD(field) G_STMT_START { \
  g_mutex_lock (&stats_lock); stats.field++; g_mutex_unlock (&stats_lock); \
} G_STMT_END

void
hearth_vfs_get_stats (HearthVfsStats *out)
{
  g_mutex_lock (&stats_lock);
  *out = stats;
  g_mutex_unlock (&stats_lock);
}

/* ---- files ----------------------------------------------------------- */

typedef enum {
  KIND_MAIN = 'D',
  KIND_JOURNAL = 'J',
  KIND_WAL = 'W',
} FileKind;

typedef struct EncFile EncFile;
struct EncFile {
  sqlite3_file base;
  FileKind kind;
  const char *name;       /* owned by SQLite; valid until xClose */
  HearthPageKey *key;
  EncFile *main;          /* journal and WAL: the main database's file */
  guint8 *buf;            /* ciphertext scratch, WAL_FRAME + 8 bytes */
  gboolean recovering;    /* main: holds the WAL recovery lock */
  gboolean ckpt_locked;   /* main: holds the WAL checkpoint lock */
  int lock_level;         /* main: the file lock held (SQLITE_LOCK_*) */
  guint32 verified_mx;    /* main: WAL frames 1..verified_mx of the generation */
  guint8 verified_salt[8];/*   with these salts were authenticated */
  guint32 held_from;      /* main: frames held_from..held_to were authenticated */
  guint32 held_to;        /*   while this checkpoint lock is held; 0 if none */
  EncFile *wal;           /* main: its open WAL file, if any */
  guint32 pass_pgno;      /* main: page of the last WAL page read under the
                           * checkpoint lock, 0 if none */
  guint8 *pass_cipher;    /* main: that page's ciphertext (P bytes) */
  guint8 *pass_plain;     /* main: and what SQLite was handed (its plaintext,
                           * or under the checkpoint lock that ciphertext:
                           * checkpoint_copy_read()), to recognise its write */
  sqlite3_int64 hdr_off;  /* WAL: offset of the last frame header written */
  guint32 hdr_pgno;       /* WAL: its page number */
  guint8 *pend;           /* WAL: frames written but not yet on disk, each
                           * [header 24][plaintext page], the last maybe a
                           * header alone (wal_flush()); NULL until needed */
  sqlite3_int64 pend_off; /* WAL: their offset in the file */
  gsize pend_len;         /* WAL: their length in bytes; 0 if none */
  char last_error[640];   /* main: the last failure, for PRAGMA encvfs_last_error */
};

static int wal_flush (EncFile *p);

#define REAL(p) ((sqlite3_file *) (((EncFile *) (p)) + 1))
#define ORIG_VFS(v) ((sqlite3_vfs *) ((v)->pAppData))

static sqlite3_io_methods enc_io_methods[3];

static gboolean
is_enc_file (sqlite3_file *f)
{
  return f != NULL && f->pMethods != NULL &&
         f->pMethods >= &enc_io_methods[0] && f->pMethods <= &enc_io_methods[2];
}

static void put_be32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static guint32 get_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static const char *
kind_name (FileKind kind)
{
  switch (kind)
    {
    case KIND_MAIN: return "database";
    case KIND_JOURNAL: return "journal";
    case KIND_WAL: return "WAL";
    default: return "file";
    }
}

/* Records a failure in the log and in the main file's last error. */
G_GNUC_PRINTF (3, 4)
static void
report (EncFile *p, int code, const char *fmt, ...)
{
  va_list ap;
  char msg[512];
  EncFile *m = p->kind == KIND_MAIN ? p : p->main;

  va_start (ap, fmt);
  g_vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  /* Straight to GLib: sqlite3_log() cuts messages at about 200 bytes. */
  g_message ("encvfs (%d): %s %s: %s", code, kind_name (p->kind), p->name ? p->name : "?", msg);
  /* A notice (a torn WAL tail dropped) is not the cause of a later error. */
  if (m != NULL && (code & 0xff) != SQLITE_NOTICE)
    g_snprintf (m->last_error, sizeof m->last_error, "%s %s: %s",
                kind_name (p->kind), p->name ? p->name : "?", msg);
}

static gsize
build_ad (guint8 *ad, const guint8 *file_id, guint32 pgno, const guint8 *header16_23)
{
  gsize n = 0;

  memcpy (ad, "encvfs1", 7); n += 7;
  ad[n++] = header16_23 != NULL ? 'H' : 'P';
  memcpy (ad + n, file_id, HEARTH_FILE_ID_SIZE); n += HEARTH_FILE_ID_SIZE;
  put_be32 (ad + n, pgno); n += 4;
  if (header16_23 != NULL)
    {
      memcpy (ad + n, header16_23, 8);
      n += 8;
    }
  return n;
}

/* Encrypts the plaintext page @in (P bytes) into @out (P bytes; may equal
 * @in) under the nonce @nonce (NONCE_BYTES, fresh and random; it may be
 * @out's own nonce field). Counts nothing; any thread (the key is
 * read-only). */
static void
seal_page (EncFile *p, guint32 pgno, const guint8 *in, guint8 *out, const guint8 *nonce)
{
  guint8 ad[AD_MAX];
  guint8 header[8];
  gsize adlen, start = 0;
  gboolean page1 = p->kind == KIND_MAIN && pgno == 1;

  if (page1)
    {
      memcpy (header, in + 16, 8);
      memcpy (out, p->key->file_id, HEARTH_FILE_ID_SIZE);
      memcpy (out + 16, header, 8);
      start = 24;
    }
  adlen = build_ad (ad, p->key->file_id, pgno, page1 ? header : NULL);
  memmove (out + DATA_BYTES, nonce, NONCE_BYTES);
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached (
      out + start, out + DATA_BYTES + NONCE_BYTES, NULL,
      in + start, DATA_BYTES - start, ad, adlen, NULL,
      out + DATA_BYTES, p->key->key);
}

/* Encrypts the plaintext page @in (P bytes) into @out (P bytes). */
static void
encrypt_page (EncFile *p, guint32 pgno, const guint8 *in, guint8 *out)
{
  guint8 nonce[NONCE_BYTES];

  randombytes_buf (nonce, NONCE_BYTES);
  seal_page (p, pgno, in, out, nonce);
  STAT_ADD (pages_encrypted);
}

/* Decrypts the on-disk page @in (P bytes) into @out (P bytes; may equal
 * @in). On failure @out is all zeros and FALSE is returned; the caller
 * decides whether that counts as an authentication failure. */
static gboolean
decrypt_page_uncounted (EncFile *p, guint32 pgno, const guint8 *in, guint8 *out)
{
  guint8 ad[AD_MAX];
  guint8 nonce_tag[R];
  guint8 header[8];
  gsize adlen, start = 0;
  gboolean page1 = p->kind == KIND_MAIN && pgno == 1;
  int rc;

  memcpy (nonce_tag, in + DATA_BYTES, R);
  if (page1)
    {
      memcpy (header, in + 16, 8);
      start = 24;
    }
  adlen = build_ad (ad, p->key->file_id, pgno, page1 ? header : NULL);
  rc = crypto_aead_xchacha20poly1305_ietf_decrypt_detached (
      out + start, NULL, in + start, DATA_BYTES - start,
      nonce_tag + NONCE_BYTES, ad, adlen, nonce_tag, p->key->key);
  if (rc != 0)
    {
      sodium_memzero (out, P);
      return FALSE;
    }
  if (page1)
    {
      memcpy (out, sqlite_magic, 16);
      memcpy (out + 16, header, 8);
    }
  sodium_memzero (out + DATA_BYTES, R);
  STAT_ADD (pages_decrypted);
  return TRUE;
}

/* Authenticates the on-disk page @in (P bytes) without decrypting it:
 * libsodium's detached decryption with no output buffer only checks the
 * tag, which skips the cipher's pass over the page. Not for page 1 of the
 * main file (its header is outside the ciphertext). Counts nothing (the
 * caller does); any thread (the key is read-only). */
static gboolean
authenticate_page (EncFile *p, guint32 pgno, const guint8 *in)
{
  guint8 ad[AD_MAX];
  gsize adlen;

  g_assert (p->kind != KIND_MAIN || pgno != 1);
  adlen = build_ad (ad, p->key->file_id, pgno, NULL);
  return crypto_aead_xchacha20poly1305_ietf_decrypt_detached (
             NULL, NULL, in, DATA_BYTES, in + DATA_BYTES + NONCE_BYTES, ad, adlen,
             in + DATA_BYTES, p->key->key) == 0;
}

static gboolean
decrypt_page (EncFile *p, guint32 pgno, const guint8 *in, guint8 *out)
{
  if (decrypt_page_uncounted (p, pgno, in, out))
    return TRUE;
  STAT_ADD (auth_failures);
  return FALSE;
}

/* Reads exactly @amt bytes of ciphertext; SQLITE_IOERR_SHORT_READ (with
 * @buf zeroed) when the file ends inside the range. */
static int
read_raw (EncFile *p, guint8 *buf, int amt, sqlite3_int64 off)
{
  sqlite3_file *real = REAL (p);
  int rc = real->pMethods->xRead (real, buf, amt, off);

  if (rc == SQLITE_IOERR_SHORT_READ)
    memset (buf, 0, amt);  /* a partial page is never decrypted */
  return rc;
}

static int
corrupt (EncFile *p, guint32 pgno, sqlite3_int64 off, void *zbuf, int amt)
{
  if (p->kind == KIND_MAIN && pgno == 1 &&
      memcmp (p->buf, p->key->file_id, HEARTH_FILE_ID_SIZE) != 0)
    report (p, SQLITE_CORRUPT,
            "page 1 (offset 0): file id does not match the keyslot (another database's page or keyslot)");
  else
    report (p, SQLITE_CORRUPT,
            "page %u (offset %" G_GINT64_FORMAT "): authentication failed (damaged or tampered page)",
            pgno, (gint64) off);
  memset (zbuf, 0, amt);
  return SQLITE_CORRUPT;
}

/* Main database: whole pages, or any slice through a whole-page decrypt. */
static int
main_read (EncFile *p, void *zbuf, int amt, sqlite3_int64 off)
{
  guint8 *out = zbuf;

  if (amt == P && off % P == 0)
    {
      guint32 pgno = (guint32) (off / P) + 1;
      int rc = read_raw (p, p->buf, P, off);

      if (rc != SQLITE_OK)
        {
          memset (zbuf, 0, amt);
          return rc;
        }
      if (pgno == 1 && (get_be32 (p->buf + 16) >> 16 != P || p->buf[20] != R))
        {
          report (p, SQLITE_CORRUPT,
                  "page 1 (offset 0): header says page size %u and reserve %u; the store needs %d and %d",
                  get_be32 (p->buf + 16) >> 16, p->buf[20], P, R);
          memset (zbuf, 0, amt);
          return SQLITE_CORRUPT;
        }
      if (!decrypt_page (p, pgno, p->buf, out))
        return corrupt (p, pgno, off, zbuf, amt);
      return SQLITE_OK;
    }

  /* Sub-page reads (the 100-byte header at open, 16 bytes at 24 before a
   * rollback-mode transaction, and any unaligned read of a later SQLite):
   * decrypt the whole page and copy the slice. */
  while (amt > 0)
    {
      sqlite3_int64 page_off = off - off % P;
      guint32 pgno = (guint32) (page_off / P) + 1;
      int in_page = (int) (off - page_off);
      int n = MIN (amt, P - in_page);
      int rc = read_raw (p, p->buf, P, page_off);

      if (rc != SQLITE_OK)
        {
          memset (out, 0, amt);
          return rc;
        }
      if (!decrypt_page_uncounted (p, pgno, p->buf, p->buf))
        {
          if (pgno != 1)
            {
              STAT_ADD (auth_failures);
              return corrupt (p, pgno, page_off, out, amt);
            }
          /* P1: the unlocked header read may see a torn page 1. Answer the
           * magic and the plaintext header bytes and zeros for the rest;
           * SQLite re-reads page 1 under a lock and fails there if the
           * damage is real, so only that read counts as a failure. */
          STAT_ADD (header_tears);
          read_raw (p, p->buf, 32, 0);
          memcpy (p->buf, sqlite_magic, 16);
          memset (p->buf + 24, 0, P - 24);
        }
      memcpy (out, p->buf + in_page, n);
      sodium_memzero (p->buf, P);
      out += n;
      off += n;
      amt -= n;
    }
  return SQLITE_OK;
}

/* Frames read at once by verify_wal_before_checkpoint() (a MiB), and the
 * fewest of them whose second half is authenticated on a thread of its
 * own meanwhile. */
#define VERIFY_CHUNK_FRAMES 256
#define VERIFY_SPLIT_FRAMES 64

/* Frames authenticated together: @n frames of @wal in @frames, the first
 * of them frame @first; @failed the first that failed (0 for none). */
typedef struct {
  EncFile *wal;
  const guint8 *frames;
  guint32 first;
  guint32 n;
  guint32 failed;
} FrameRun;

static gpointer
authenticate_frames (gpointer data)
{
  FrameRun *run = data;

  run->failed = 0;
  for (guint32 i = 0; i < run->n; i++)
    {
      const guint8 *frame = run->frames + (gsize) i * WAL_FRAME;
      guint32 pgno = get_be32 (frame);

      if (pgno == 0 || !authenticate_page (run->wal, pgno, frame + WAL_FRAME_HEADER))
        {
          run->failed = run->first + i;
          break;
        }
    }
  return NULL;
}

/* Authenticates the WAL frames that a checkpoint may copy: those after the
 * last one backfilled up to the last committed one, as the wal-index says,
 * less those already authenticated in this generation of the log. In WAL
 * mode only a checkpoint writes to the database file, so this runs before
 * each such write; mostly it finds nothing new to check. The frames are
 * read a MiB at a time, and the second half of each MiB authenticated on
 * another thread while this one does the first (a fresh device's pull
 * ends with a checkpoint of some 4,300 frames, on the way of nothing
 * else); a frame that fails is the first that failed, as one by one. */
static int
verify_wal_before_checkpoint (EncFile *m)
{
  sqlite3_file *real = REAL (m);
  EncFile *w = m->wal;
  void volatile *region = NULL;
  g_autofree guint8 *frames = NULL;
  guint32 mx_frame, backfill;
  guint8 salt[8];

  /* This connection's frames held back are part of the log (a later
   * commit of the same connection; those of others are on disk). */
  if (w != NULL && w->pend_len > 0)
    {
      int rc = wal_flush (w);
      if (rc != SQLITE_OK)
        return rc;
    }
  if (w == NULL || real->pMethods->iVersion < 2 ||
      real->pMethods->xShmMap (real, 0, 32768, 0, &region) != SQLITE_OK || region == NULL)
    return SQLITE_OK;  /* no wal-index: nothing for a checkpoint to copy */
  real->pMethods->xShmBarrier (real);
  memcpy (&mx_frame, (const guint8 *) region + WAL_SHM_MX_FRAME, 4);
  memcpy (salt, (const guint8 *) region + WAL_SHM_SALT, 8);
  memcpy (&backfill, (const guint8 *) region + WAL_SHM_BACKFILL, 4);
  if (memcmp (salt, m->verified_salt, 8) == 0)
    backfill = MAX (backfill, m->verified_mx);
  else
    m->held_to = 0;
  if (backfill >= mx_frame)
    return SQLITE_OK;

  frames = g_malloc ((gsize) MIN (mx_frame - backfill, VERIFY_CHUNK_FRAMES) * WAL_FRAME);
  for (guint32 f = backfill + 1; f <= mx_frame;)
    {
      guint32 n = MIN (mx_frame - f + 1, VERIFY_CHUNK_FRAMES);
      sqlite3_int64 off = WAL_HEADER + (sqlite3_int64) (f - 1) * WAL_FRAME;
      FrameRun runs[2] = { { 0 } };
      GThread *helper = NULL;
      guint32 failed;
      int rc = read_raw (w, frames, (int) (n * WAL_FRAME), off);

      /* The log ends inside these frames: one by one, to say which. */
      if (rc != SQLITE_OK && n > 1)
        n = 1;
      if (rc != SQLITE_OK && (rc = read_raw (w, frames, WAL_FRAME, off)) != SQLITE_OK)
        {
          report (w, SQLITE_CORRUPT, "frame %u (offset %" G_GINT64_FORMAT ") is missing or cut short; "
                  "the checkpoint is refused", f, (gint64) off);
          return SQLITE_CORRUPT;
        }
      runs[0] = (FrameRun) { w, frames, f, n, 0 };
      if (n >= VERIFY_SPLIT_FRAMES)
        {
          /* Only memory and the page key (read-only) on that thread. */
          runs[0].n = n / 2;
          runs[1] = (FrameRun) { w, frames + (gsize) runs[0].n * WAL_FRAME, f + runs[0].n, n - runs[0].n, 0 };
          /* No thread to be had (a process at its limit): here after the
           * first half. */
          helper = g_thread_try_new ("hearth-verify", authenticate_frames, &runs[1], NULL);
        }
      authenticate_frames (&runs[0]);
      if (helper != NULL)
        g_thread_join (helper);
      else if (runs[1].n > 0)
        authenticate_frames (&runs[1]);
      failed = runs[0].failed != 0 ? runs[0].failed : runs[1].failed;
      /* Counted as one by one: the frames before the first that failed,
       * and that one. */
      g_mutex_lock (&stats_lock);
      stats.pages_authenticated += failed != 0 ? failed - f : n;
      stats.auth_failures += failed != 0;
      g_mutex_unlock (&stats_lock);
      if (failed != 0)
        {
          const guint8 *frame = frames + (gsize) (failed - f) * WAL_FRAME;

          report (w, SQLITE_CORRUPT,
                  "page %u (frame at offset %" G_GINT64_FORMAT "): authentication failed (damaged or tampered "
                  "page); the checkpoint is refused before it writes anything", get_be32 (frame),
                  (gint64) (WAL_HEADER + (sqlite3_int64) (failed - 1) * WAL_FRAME));
          return SQLITE_CORRUPT;
        }
      f += n;
    }
  if (m->ckpt_locked)
    {
      if (m->held_to == 0)
        m->held_from = backfill + 1;
      m->held_to = mx_frame;
    }
  m->verified_mx = mx_frame;
  memcpy (m->verified_salt, salt, 8);
  return SQLITE_OK;
}

static int
main_write (EncFile *p, const void *zbuf, int amt, sqlite3_int64 off)
{
  const guint8 *in = zbuf;
  guint32 pgno;
  sqlite3_file *real = REAL (p);

  if (amt != P || off % P != 0)
    {
      STAT_ADD (refused_writes);
      report (p, SQLITE_IOERR_WRITE,
              "refused a write of %d bytes at offset %" G_GINT64_FORMAT " (only whole %d-byte pages are written)",
              amt, (gint64) off, P);
      return SQLITE_IOERR_WRITE;
    }
  pgno = (guint32) (off / P) + 1;
  if (pgno == 1 && (((guint32) in[16] << 8 | in[17]) != P || in[20] != R))
    {
      STAT_ADD (refused_writes);
      report (p, SQLITE_IOERR_WRITE,
              "refused page 1 with page size %u and reserve %u: the store needs %d and %d "
              "(set SQLITE_FCNTL_RESERVE_BYTES before the first write)",
              (guint32) in[16] << 8 | in[17], in[20], P, R);
      return SQLITE_IOERR_WRITE;
    }
  if (p->wal != NULL)
    {
      int rc = verify_wal_before_checkpoint (p);
      if (rc != SQLITE_OK)
        return rc;
    }
  /* A checkpoint writes the page it has just read from the WAL: the same
   * page at the same page number has the same associated data, so that
   * frame's ciphertext is valid here as it is. The buffer is the one the
   * read answered, plaintext or (checkpoint_copy_read()) that very
   * ciphertext; any other is encrypted. */
  if (pgno != 1 && pgno == p->pass_pgno && memcmp (in, p->pass_plain, DATA_BYTES) == 0)
    {
      p->pass_pgno = 0;
      STAT_ADD (pages_passed_through);
      return real->pMethods->xWrite (real, p->pass_cipher, P, off);
    }
  encrypt_page (p, pgno, in, p->buf);
  return real->pMethods->xWrite (real, p->buf, P, off);
}

/* Rollback journal: page records are [pgno 4][page][checksum 4]; SQLite
 * writes and reads the page alone, so the page number is the 4 bytes just
 * before it on disk. Headers and checksums stay plaintext. */
static int
journal_read (EncFile *p, void *zbuf, int amt, sqlite3_int64 off)
{
  guint32 pgno;
  int rc;

  if (amt < P)
    return REAL (p)->pMethods->xRead (REAL (p), zbuf, amt, off);
  if (amt > P || off < 4)
    {
      report (p, SQLITE_IOERR_READ, "refused a read of %d bytes at offset %" G_GINT64_FORMAT,
              amt, (gint64) off);
      return SQLITE_IOERR_READ;
    }
  rc = read_raw (p, p->buf, P + 4, off - 4);
  if (rc != SQLITE_OK)
    {
      memset (zbuf, 0, amt);
      return rc;
    }
  pgno = get_be32 (p->buf);
  if (pgno == 0 || !decrypt_page (p, pgno, p->buf + 4, zbuf))
    return corrupt (p, pgno, off, zbuf, amt);
  return SQLITE_OK;
}

static int
journal_write (EncFile *p, const void *zbuf, int amt, sqlite3_int64 off)
{
  sqlite3_file *real = REAL (p);
  guint8 pg[4];
  guint32 pgno;
  int rc;

  if (amt < P)
    return real->pMethods->xWrite (real, zbuf, amt, off);
  if (amt > P || off < 4)
    goto refuse;
  rc = real->pMethods->xRead (real, pg, 4, off - 4);
  if (rc != SQLITE_OK || (pgno = get_be32 (pg)) == 0)
    goto refuse;
  encrypt_page (p, pgno, zbuf, p->buf);
  return real->pMethods->xWrite (real, p->buf, P, off);

refuse:
  STAT_ADD (refused_writes);
  report (p, SQLITE_IOERR_WRITE,
          "refused a write of %d bytes at offset %" G_GINT64_FORMAT " (no page number before it)",
          amt, (gint64) off);
  return SQLITE_IOERR_WRITE;
}

/* A checkpoint reads each page it copies from the WAL (in p->buf, the
 * whole frame) and writes it to the database file at once, where
 * main_write() passes the frame's ciphertext through. Its first such read
 * authenticates every frame it may copy (verify_wal_before_checkpoint());
 * the pages read after that, from those frames, are answered with their
 * ciphertext (reserve zeroed), neither checked a second time nor
 * decrypted: SQLite's checkpoint writes the buffer it read to the
 * database file and looks at nothing in it, and main_write() recognises
 * that buffer and writes the frame's ciphertext, so no plaintext is ever
 * needed (decrypting was a fifth of a fresh device's checkpoint). Only
 * under the checkpoint lock (held by this connection, inside SQLite's
 * checkpoint, where no page reaches the pager; no other connection can
 * rewrite those frames meanwhile: the log restarts only once they are all
 * backfilled), only frames of the generation (salts) and range
 * authenticated under this hold, and never page 1, which the database
 * file gets re-encrypted rather than passed through. Returns whether it
 * answered @out; FALSE with *@rc set when the authentication failed,
 * FALSE with SQLITE_OK when the read is not one. */
static gboolean
checkpoint_copy_read (EncFile *p, guint32 pgno, sqlite3_int64 off, guint8 *out, int *rc)
{
  EncFile *m = p->main;
  guint32 frame;

  *rc = SQLITE_OK;
  if (m == NULL || !m->ckpt_locked || pgno <= 1)
    return FALSE;
  *rc = verify_wal_before_checkpoint (m);
  if (*rc != SQLITE_OK)
    return FALSE;
  frame = (guint32) ((off - WAL_HEADER - WAL_FRAME_HEADER) / WAL_FRAME) + 1;
  if (m->held_to == 0 || frame < m->held_from || frame > m->held_to ||
      memcmp (p->buf + 8, m->verified_salt, 8) != 0)
    return FALSE;
  memcpy (out, p->buf + WAL_FRAME_HEADER, DATA_BYTES);
  memset (out + DATA_BYTES, 0, R);
  return TRUE;
}

/* WAL: a 32-byte header, then frames of [24-byte header][page]. SQLite
 * writes the frame header and the page separately, and may rewrite a page
 * in place without its header (iReCksum), so the page number is read back
 * from the frame header on disk. Whole-frame reads come from recovery and
 * from the checksum rewrite. */
static int
wal_read (EncFile *p, void *zbuf, int amt, sqlite3_int64 off)
{
  guint8 *out = zbuf;
  int rc;

  /* Frames held back are read from the disk like any other. */
  rc = wal_flush (p);
  if (rc != SQLITE_OK)
    {
      memset (zbuf, 0, amt);
      return rc;
    }
  if (amt == P && off >= WAL_HEADER + WAL_FRAME_HEADER &&
      (off - WAL_HEADER - WAL_FRAME_HEADER) % WAL_FRAME == 0)
    {
      guint32 pgno;

      rc = read_raw (p, p->buf, WAL_FRAME, off - WAL_FRAME_HEADER);
      if (rc != SQLITE_OK)
        {
          memset (zbuf, 0, amt);
          return rc;
        }
      pgno = get_be32 (p->buf);
      if (!checkpoint_copy_read (p, pgno, off, out, &rc))
        {
          if (rc != SQLITE_OK)
            {
              memset (zbuf, 0, amt);
              return rc;
            }
          if (pgno == 0 || !decrypt_page (p, pgno, p->buf + WAL_FRAME_HEADER, out))
            return corrupt (p, pgno, off, zbuf, amt);
        }
      /* Under the checkpoint lock, or the exclusive lock of the last close
       * (whose checkpoint takes no shm locks), a page read is about to be
       * copied into the database file. */
      if (p->main != NULL && pgno != 1 &&
          (p->main->ckpt_locked || p->main->lock_level == SQLITE_LOCK_EXCLUSIVE))
        {
          EncFile *m = p->main;

          if (m->pass_cipher == NULL)
            {
              m->pass_cipher = g_malloc (P);
              m->pass_plain = g_malloc (P);
            }
          memcpy (m->pass_cipher, p->buf + WAL_FRAME_HEADER, P);
          memcpy (m->pass_plain, out, DATA_BYTES);
          m->pass_pgno = pgno;
        }
      return SQLITE_OK;
    }
  if (amt == WAL_FRAME && off >= WAL_HEADER && (off - WAL_HEADER) % WAL_FRAME == 0)
    {
      guint32 pgno;

      rc = read_raw (p, out, WAL_FRAME, off);
      if (rc != SQLITE_OK)
        return rc;
      pgno = get_be32 (out);
      if (pgno != 0 && decrypt_page (p, pgno, out + WAL_FRAME_HEADER, out + WAL_FRAME_HEADER))
        return SQLITE_OK;
      if (p->main != NULL && p->main->recovering)
        {
          /* P2: recovery stops quietly at a frame whose checksum fails but
           * aborts on a read error. A torn tail must not make the store
           * unopenable: answer a zero page, whose checksum cannot match. */
          STAT_ADD (wal_recovery_drops);
          report (p, SQLITE_NOTICE,
                  "frame at offset %" G_GINT64_FORMAT " (page %u) failed authentication during recovery; "
                  "the log is truncated there (a torn last write, or damage)",
                  (gint64) off, pgno);
          return SQLITE_OK;
        }
      memset (out, 0, WAL_FRAME);
      report (p, SQLITE_CORRUPT,
              "page %u (frame at offset %" G_GINT64_FORMAT "): authentication failed (damaged or tampered page)",
              pgno, (gint64) off);
      return SQLITE_CORRUPT;
    }
  if (amt <= WAL_HEADER)
    return REAL (p)->pMethods->xRead (REAL (p), zbuf, amt, off);
  report (p, SQLITE_IOERR_READ, "refused a read of %d bytes at offset %" G_GINT64_FORMAT,
          amt, (gint64) off);
  return SQLITE_IOERR_READ;
}

/* A commit's frames are written one by one (a header, then its page) and
 * reach the disk only at the commit's xSync, so the WAL keeps a run of
 * appended frames in memory (up to PEND_FRAMES) and encrypts them together,
 * on two threads when there are enough (a fresh device's pull ends with a
 * commit of some 4,300 frames whose encryption took one core while the
 * other idled), before writing them in one piece at the offset SQLite gave.
 * The file then holds the same bytes when SQLite syncs, truncates, closes,
 * sizes or reads it as if each write had gone through at once, since every
 * one of those, any write that is not the next append, and the last frame
 * of a transaction (a commit frame: another connection may read it once
 * the wal-index says so, even with no sync between) write the run first
 * (wal_flush()); so does a checkpoint before it reads the log. A write
 * that fails is reported by the call that flushed, as an OS reports a
 * failed write-back at fsync. */
#define PEND_FRAMES 256
#define PEND_SPLIT_FRAMES 32
#define WAL_WRITE_MAX ((gsize) 31 * WAL_FRAME)

/* The frames of one flush, sealed by the flushing thread and the seal
 * helper together: each takes the next frame not yet taken, so neither
 * waits for the other but for the one frame it may be sealing. The job
 * lives until both have let it go (ref); the helper, which may start
 * late, touches the frames only if it joins before the flushing thread
 * closes the job, and the flushing thread returns only when no helper is
 * inside. */
typedef struct {
  gatomicrefcount ref;
  EncFile *wal;
  guint8 *frames;        /* [header 24][page P], page encrypted in place */
  const guint8 *nonces;  /* NONCE_BYTES a frame */
  guint32 n;
  gint next;             /* atomic: the next frame to take */
  gboolean closed;       /* under seal_lock: no helper may join any more */
  guint inside;          /* under seal_lock: helpers sealing */
} SealJob;

static GMutex seal_lock;
static GCond seal_cond;

static void
seal_job_unref (SealJob *job)
{
  if (g_atomic_ref_count_dec (&job->ref))
    g_free (job);
}

/* Seals the frames of @job not yet taken. */
static void
seal_frames (SealJob *job)
{
  guint32 i;

  while ((i = (guint32) g_atomic_int_add (&job->next, 1)) < job->n)
    {
      guint8 *frame = job->frames + (gsize) i * WAL_FRAME;

      seal_page (job->wal, get_be32 (frame), frame + WAL_FRAME_HEADER, frame + WAL_FRAME_HEADER,
                 job->nonces + (gsize) i * NONCE_BYTES);
    }
}

/* The seal helper's turn at a job (a thread of seal_pool): only the job's
 * frames and the page key (read-only) there. */
static void
seal_helper (gpointer data, gpointer user_data)
{
  SealJob *job = data;
  gboolean join;

  g_mutex_lock (&seal_lock);
  join = !job->closed;
  job->inside += join;
  g_mutex_unlock (&seal_lock);
  if (join)
    {
      seal_frames (job);
      g_mutex_lock (&seal_lock);
      job->inside--;
      g_cond_broadcast (&seal_cond);
      g_mutex_unlock (&seal_lock);
    }
  seal_job_unref (job);
}

/* One long-lived helper thread for the process (a thread started for
 * each flush waited on the scheduler each time on a busy machine);
 * %NULL when none can be had, and then the flushing thread seals alone. */
static GThreadPool *
seal_pool (void)
{
  static gsize once = 0;
  static GThreadPool *pool;

  if (g_once_init_enter (&once))
    {
      pool = g_thread_pool_new (seal_helper, NULL, 1, FALSE, NULL);
      g_once_init_leave (&once, 1);
    }
  return pool;
}

/* Encrypts the frames held back in @p (each page in place) and writes
 * them, and a frame header after them if any, where SQLite wrote them. */
static int
wal_flush (EncFile *p)
{
  sqlite3_file *real = REAL (p);
  guint32 n = (guint32) (p->pend_len / WAL_FRAME);
  guint8 nonces[PEND_FRAMES * NONCE_BYTES];
  GThreadPool *pool;
  SealJob *job;
  gsize len = p->pend_len;
  int rc;

  if (len == 0)
    return SQLITE_OK;
  p->pend_len = 0;
  /* One draw for the run's nonces: as random as one draw a page. */
  randombytes_buf (nonces, (gsize) n * NONCE_BYTES);
  job = g_new0 (SealJob, 1);
  g_atomic_ref_count_init (&job->ref);
  job->wal = p;
  job->frames = p->pend;
  job->nonces = nonces;
  job->n = n;
  if (n >= PEND_SPLIT_FRAMES && (pool = seal_pool ()) != NULL)
    {
      g_atomic_ref_count_inc (&job->ref);
      if (!g_thread_pool_push (pool, job, NULL))
        seal_job_unref (job);
    }
  seal_frames (job);
  g_mutex_lock (&seal_lock);
  job->closed = TRUE;
  while (job->inside > 0)
    g_cond_wait (&seal_cond, &seal_lock);
  g_mutex_unlock (&seal_lock);
  seal_job_unref (job);
  g_mutex_lock (&stats_lock);
  stats.pages_encrypted += n;
  stats.wal_frame_runs++;
  g_mutex_unlock (&stats_lock);
  /* SQLite's unix VFS writes at most 128 KiB - 1 a call (seekAndWriteFd()
   * masks the length with 0x1ffff). */
  for (gsize done = 0; done < len; done += WAL_WRITE_MAX)
    {
      rc = real->pMethods->xWrite (real, p->pend + done, (int) MIN (len - done, WAL_WRITE_MAX),
                                   p->pend_off + (sqlite3_int64) done);
      if (rc != SQLITE_OK)
        {
          report (p, rc, "writing %u frames at offset %" G_GINT64_FORMAT " failed", n, (gint64) p->pend_off);
          return rc;
        }
    }
  return SQLITE_OK;
}

/* Holds back the write if it appends to the frames held back (or starts
 * them): a frame header at their end, or the page after a held header.
 * Returns whether it did; *@rc is then the answer to SQLite. */
static gboolean
wal_hold (EncFile *p, const void *zbuf, int amt, sqlite3_int64 off, int *rc)
{
  gsize in_frame = p->pend_len % WAL_FRAME;
  gboolean commit;

  *rc = SQLITE_OK;
  if (amt == WAL_FRAME_HEADER)
    {
      if (in_frame != 0 || off < WAL_HEADER || (off - WAL_HEADER) % WAL_FRAME != 0 ||
          (p->pend_len > 0 && off != p->pend_off + (sqlite3_int64) p->pend_len))
        return FALSE;
      if (get_be32 (zbuf) == 0)
        return FALSE;  /* refused when its page comes, as before */
      if (p->pend == NULL)
        p->pend = g_malloc ((gsize) PEND_FRAMES * WAL_FRAME);
      if (p->pend_len == 0)
        p->pend_off = off;
      memcpy (p->pend + p->pend_len, zbuf, WAL_FRAME_HEADER);
      p->pend_len += WAL_FRAME_HEADER;
      p->hdr_off = off;
      p->hdr_pgno = get_be32 (zbuf);
      return TRUE;
    }
  if (amt != P || p->pend_len == 0 || off < p->pend_off)
    return FALSE;
  if (in_frame == WAL_FRAME_HEADER && off == p->pend_off + (sqlite3_int64) p->pend_len)
    {
      /* The page of the held header: the frame is whole. */
      memcpy (p->pend + p->pend_len, zbuf, P);
      p->pend_len += P;
      /* A commit frame says the database's size after it (nTruncate). */
      commit = get_be32 (p->pend + p->pend_len - WAL_FRAME + 4) != 0;
      if (commit || p->pend_len == (gsize) PEND_FRAMES * WAL_FRAME)
        *rc = wal_flush (p);
      return TRUE;
    }
  if (off + P <= p->pend_off + (sqlite3_int64) (p->pend_len - in_frame) &&
      (off - p->pend_off) % WAL_FRAME == WAL_FRAME_HEADER)
    {
      /* A held page rewritten in place (iReCksum): its header is held. */
      memcpy (p->pend + (off - p->pend_off), zbuf, P);
      return TRUE;
    }
  return FALSE;
}

static int
wal_write (EncFile *p, const void *zbuf, int amt, sqlite3_int64 off)
{
  sqlite3_file *real = REAL (p);
  guint8 hdr[4];
  guint32 pgno;
  int rc;

  if (wal_hold (p, zbuf, amt, off, &rc))
    return rc;
  /* Anything else goes after the frames held back, as it would have. */
  rc = wal_flush (p);
  if (rc != SQLITE_OK)
    return rc;
  if (amt <= WAL_HEADER)
    {
      rc = real->pMethods->xWrite (real, zbuf, amt, off);
      if (amt == WAL_FRAME_HEADER && rc == SQLITE_OK)
        {
          p->hdr_off = off;
          p->hdr_pgno = get_be32 (zbuf);
        }
      return rc;
    }
  if (amt != P || off < WAL_HEADER + WAL_FRAME_HEADER ||
      (off - WAL_HEADER - WAL_FRAME_HEADER) % WAL_FRAME != 0)
    goto refuse;
  /* The frame header usually was the write just before; a page rewritten
   * in place (iReCksum) needs its header read back from the disk. */
  if (off - WAL_FRAME_HEADER == p->hdr_off && p->hdr_pgno != 0)
    pgno = p->hdr_pgno;
  else
    {
      rc = real->pMethods->xRead (real, hdr, 4, off - WAL_FRAME_HEADER);
      if (rc != SQLITE_OK || (pgno = get_be32 (hdr)) == 0)
        goto refuse;
    }
  encrypt_page (p, pgno, zbuf, p->buf);
  return real->pMethods->xWrite (real, p->buf, P, off);

refuse:
  STAT_ADD (refused_writes);
  report (p, SQLITE_IOERR_WRITE,
          "refused a write of %d bytes at offset %" G_GINT64_FORMAT " (not a page of a frame with a page number)",
          amt, (gint64) off);
  return SQLITE_IOERR_WRITE;
}

static int
enc_read (sqlite3_file *f, void *zbuf, int amt, sqlite3_int64 off)
{
  EncFile *p = (EncFile *) f;

  switch (p->kind)
    {
    case KIND_MAIN: return main_read (p, zbuf, amt, off);
    case KIND_JOURNAL: return journal_read (p, zbuf, amt, off);
    case KIND_WAL: return wal_read (p, zbuf, amt, off);
    default: return SQLITE_IOERR_READ;
    }
}

static int
enc_write (sqlite3_file *f, const void *zbuf, int amt, sqlite3_int64 off)
{
  EncFile *p = (EncFile *) f;

  switch (p->kind)
    {
    case KIND_MAIN: return main_write (p, zbuf, amt, off);
    case KIND_JOURNAL: return journal_write (p, zbuf, amt, off);
    case KIND_WAL: return wal_write (p, zbuf, amt, off);
    default: return SQLITE_IOERR_WRITE;
    }
}

static int
enc_close (sqlite3_file *f)
{
  EncFile *p = (EncFile *) f;
  int flushed = wal_flush (p);
  int rc = REAL (p)->pMethods->xClose (REAL (p));

  if (rc == SQLITE_OK)
    rc = flushed;
  if (p->pend != NULL)
    {
      sodium_memzero (p->pend, (gsize) PEND_FRAMES * WAL_FRAME);
      g_clear_pointer (&p->pend, g_free);
    }

  if (p->kind == KIND_WAL && p->main != NULL && p->main->wal == p)
    p->main->wal = NULL;
  if (p->pass_cipher != NULL)
    {
      sodium_memzero (p->pass_plain, P);
      g_clear_pointer (&p->pass_cipher, g_free);
      g_clear_pointer (&p->pass_plain, g_free);
    }
  g_clear_pointer (&p->key, hearth_page_key_unref);
  if (p->buf != NULL)
    sodium_memzero (p->buf, WAL_FRAME + 8);
  g_clear_pointer (&p->buf, g_free);
  return rc;
}

/* The file calls below act on what SQLite wrote: a WAL's frames held back
 * (wal_hold()) are written first. */

static int
enc_truncate (sqlite3_file *f, sqlite3_int64 size)
{
  int rc = wal_flush ((EncFile *) f);

  if (rc != SQLITE_OK)
    return rc;
  ((EncFile *) f)->hdr_off = -1;
  return REAL (f)->pMethods->xTruncate (REAL (f), size);
}

static int
enc_sync (sqlite3_file *f, int flags)
{
  int rc = wal_flush ((EncFile *) f);

  if (rc != SQLITE_OK)
    return rc;
  STAT_ADD (syncs);
  return REAL (f)->pMethods->xSync (REAL (f), flags);
}

static int
enc_file_size (sqlite3_file *f, sqlite3_int64 *size)
{
  int rc = wal_flush ((EncFile *) f);

  if (rc != SQLITE_OK)
    return rc;
  return REAL (f)->pMethods->xFileSize (REAL (f), size);
}
static int
enc_lock (sqlite3_file *f, int level)
{
  int rc = REAL (f)->pMethods->xLock (REAL (f), level);

  if (rc == SQLITE_OK)
    ((EncFile *) f)->lock_level = level;
  return rc;
}

static int
enc_unlock (sqlite3_file *f, int level)
{
  int rc = REAL (f)->pMethods->xUnlock (REAL (f), level);

  if (rc == SQLITE_OK)
    ((EncFile *) f)->lock_level = level;
  return rc;
}
static int enc_check_reserved_lock (sqlite3_file *f, int *out)
{ return REAL (f)->pMethods->xCheckReservedLock (REAL (f), out); }
static int enc_sector_size (sqlite3_file *f)
{ return REAL (f)->pMethods->xSectorSize (REAL (f)); }

static int
enc_device_characteristics (sqlite3_file *f)
{
  int caps = REAL (f)->pMethods->xDeviceCharacteristics (REAL (f));

  /* PSOW keeps WAL writes whole (P5); atomic-write capabilities would let
   * SQLite skip the journal; 0x8000 (SUBPAGE_READ, SQLite >= 3.48) would
   * allow direct overflow reads (P7). */
  caps &= ~(SQLITE_IOCAP_ATOMIC | SQLITE_IOCAP_ATOMIC512 | SQLITE_IOCAP_ATOMIC1K |
            SQLITE_IOCAP_ATOMIC2K | SQLITE_IOCAP_ATOMIC4K | SQLITE_IOCAP_ATOMIC8K |
            SQLITE_IOCAP_ATOMIC16K | SQLITE_IOCAP_ATOMIC32K | SQLITE_IOCAP_ATOMIC64K |
            SQLITE_IOCAP_BATCH_ATOMIC | 0x8000);
  return caps | SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

static int
enc_file_control (sqlite3_file *f, int op, void *arg)
{
  EncFile *p = (EncFile *) f;
  int rc;

  /* Whatever the underlying file does (a size hint, a sync of its own),
   * it does after the writes SQLite made. */
  if ((rc = wal_flush (p)) != SQLITE_OK)
    return rc;
  if (op == SQLITE_FCNTL_PRAGMA && p->kind == KIND_MAIN)
    {
      char **a = arg;

      if (g_ascii_strcasecmp (a[1], "page_size") == 0 && a[2] != NULL &&
          g_ascii_strtoll (a[2], NULL, 10) != P)
        {
          a[0] = sqlite3_mprintf ("encvfs: the page size is fixed at %d", P);
          return SQLITE_ERROR;
        }
      if (g_ascii_strcasecmp (a[1], "encvfs_last_error") == 0)
        {
          /* Read and reset, so that a later, unrelated error never shows
           * an old page's message. */
          a[0] = sqlite3_mprintf ("%s", p->last_error);
          p->last_error[0] = '\0';
          return SQLITE_OK;
        }
      if (g_ascii_strcasecmp (a[1], "encvfs_wal_recovery_drops") == 0)
        {
          HearthVfsStats s;
          hearth_vfs_get_stats (&s);
          a[0] = sqlite3_mprintf ("%" G_GUINT64_FORMAT, s.wal_recovery_drops);
          return SQLITE_OK;
        }
    }
  if (op == SQLITE_FCNTL_MMAP_SIZE)
    {
      /* P6: a mapping would bypass decryption. */
      *(sqlite3_int64 *) arg = 0;
      return SQLITE_OK;
    }
  if (op == SQLITE_FCNTL_VFSNAME)
    {
      *(char **) arg = sqlite3_mprintf ("%s", HEARTH_VFS_NAME);
      return SQLITE_OK;
    }
  return REAL (f)->pMethods->xFileControl (REAL (f), op, arg);
}

static int
enc_shm_map (sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{ return REAL (f)->pMethods->xShmMap (REAL (f), pg, pgsz, extend, pp); }

static int
enc_shm_lock (sqlite3_file *f, int ofst, int n, int flags)
{
  EncFile *p = (EncFile *) f;
  int rc;

  /* Frames held back are written before the write lock goes: a
   * transaction rolled back after spilling frames leaves them to be
   * overwritten by the next writer, which may be another connection, and
   * must not write them over its frames later. An unlock is never
   * refused (SQLite would hold the lock); a failed write is in the log. */
  if ((flags & SQLITE_SHM_UNLOCK) && p->wal != NULL)
    wal_flush (p->wal);
  rc = REAL (f)->pMethods->xShmLock (REAL (f), ofst, n, flags);

  /* walIndexRecover() holds the recovery lock exclusively while it reads
   * whole frames; only then is a failing frame a torn tail (P2). */
  if (rc == SQLITE_OK && ofst <= WAL_RECOVER_LOCK && ofst + n > WAL_RECOVER_LOCK)
    {
      if (flags & SQLITE_SHM_UNLOCK)
        p->recovering = FALSE;
      else if (flags & SQLITE_SHM_EXCLUSIVE)
        p->recovering = TRUE;
    }
  /* The checkpoint lock: pages read under it go on to the database file. */
  if (rc == SQLITE_OK && ofst <= WAL_CKPT_LOCK && ofst + n > WAL_CKPT_LOCK)
    {
      if (flags & SQLITE_SHM_UNLOCK)
        p->ckpt_locked = FALSE;
      else if (flags & SQLITE_SHM_EXCLUSIVE)
        p->ckpt_locked = TRUE;
      p->pass_pgno = 0;
      p->held_to = 0;
    }
  return rc;
}

static void enc_shm_barrier (sqlite3_file *f)
{ REAL (f)->pMethods->xShmBarrier (REAL (f)); }
static int enc_shm_unmap (sqlite3_file *f, int del)
{ return REAL (f)->pMethods->xShmUnmap (REAL (f), del); }

static int
enc_fetch (sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
  STAT_ADD (fetches);
  *pp = NULL;  /* P6: never a mapping */
  return SQLITE_OK;
}

static int enc_unfetch (sqlite3_file *f, sqlite3_int64 off, void *p)
{ return SQLITE_OK; }

#define ENC_IO_METHODS(version) { \
  version, enc_close, enc_read, enc_write, enc_truncate, enc_sync, \
  enc_file_size, enc_lock, enc_unlock, enc_check_reserved_lock, \
  enc_file_control, enc_sector_size, enc_device_characteristics, \
  enc_shm_map, enc_shm_lock, enc_shm_barrier, enc_shm_unmap, \
  enc_fetch, enc_unfetch }

static sqlite3_io_methods enc_io_methods[3] = {
  ENC_IO_METHODS (1), ENC_IO_METHODS (2), ENC_IO_METHODS (3),
};

static int
enc_open (sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out_flags)
{
  EncFile *p = (EncFile *) f;
  sqlite3_vfs *orig = ORIG_VFS (vfs);
  sqlite3_file *real = REAL (f);
  HearthPageKey *key = NULL;
  EncFile *main_file = NULL;
  FileKind kind;
  int rc, version;

  memset (p, 0, sizeof *p);
  p->name = name;
  if (flags & SQLITE_OPEN_MAIN_DB)
    {
      kind = KIND_MAIN;
      key = key_lookup (sqlite3_uri_parameter (name, HEARTH_VFS_KEY_PARAM));
      if (key == NULL)
        {
          STAT_ADD (refused_opens);
          sqlite3_log (SQLITE_CANTOPEN, "encvfs: refused to open %s without an attached key",
                       name ? name : "?");
          return SQLITE_CANTOPEN;
        }
    }
  else if (flags & (SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_WAL))
    {
      sqlite3_file *m = sqlite3_database_file_object (name);

      kind = (flags & SQLITE_OPEN_WAL) ? KIND_WAL : KIND_JOURNAL;
      if (!is_enc_file (m) || ((EncFile *) m)->kind != KIND_MAIN)
        {
          STAT_ADD (refused_opens);
          sqlite3_log (SQLITE_CANTOPEN, "encvfs: refused a %s whose database is not encrypted",
                       kind_name (kind));
          return SQLITE_CANTOPEN;
        }
      main_file = (EncFile *) m;
      key = hearth_page_key_ref (main_file->key);
    }
  else
    {
      /* P8: temporary databases, statement journals and sorter files
       * would hold plaintext; the store runs with temp_store=MEMORY. */
      STAT_ADD (refused_opens);
      sqlite3_log (SQLITE_CANTOPEN,
                   "encvfs: refused a temporary file (flags 0x%x); use temp_store=MEMORY", flags);
      return SQLITE_CANTOPEN;
    }

  rc = orig->xOpen (orig, name, real, flags, out_flags);
  if (rc != SQLITE_OK)
    {
      hearth_page_key_unref (key);
      p->base.pMethods = NULL;
      return rc;
    }
  p->kind = kind;
  p->key = key;
  p->main = main_file;
  p->hdr_off = -1;
  if (kind == KIND_WAL)
    main_file->wal = p;
  p->buf = g_malloc0 (WAL_FRAME + 8);
  version = MIN (3, real->pMethods->iVersion);
  p->base.pMethods = &enc_io_methods[MAX (version, 1) - 1];
  return SQLITE_OK;
}

static int vfs_delete (sqlite3_vfs *v, const char *n, int sync)
{ return ORIG_VFS (v)->xDelete (ORIG_VFS (v), n, sync); }
static int vfs_access (sqlite3_vfs *v, const char *n, int flags, int *out)
{ return ORIG_VFS (v)->xAccess (ORIG_VFS (v), n, flags, out); }
static int vfs_full_pathname (sqlite3_vfs *v, const char *n, int size, char *out)
{ return ORIG_VFS (v)->xFullPathname (ORIG_VFS (v), n, size, out); }
static void *vfs_dl_open (sqlite3_vfs *v, const char *n)
{ return ORIG_VFS (v)->xDlOpen (ORIG_VFS (v), n); }
static void vfs_dl_error (sqlite3_vfs *v, int n, char *msg)
{ ORIG_VFS (v)->xDlError (ORIG_VFS (v), n, msg); }
static void (*vfs_dl_sym (sqlite3_vfs *v, void *h, const char *s)) (void)
{ return ORIG_VFS (v)->xDlSym (ORIG_VFS (v), h, s); }
static void vfs_dl_close (sqlite3_vfs *v, void *h)
{ ORIG_VFS (v)->xDlClose (ORIG_VFS (v), h); }
static int vfs_randomness (sqlite3_vfs *v, int n, char *out)
{ return ORIG_VFS (v)->xRandomness (ORIG_VFS (v), n, out); }
static int vfs_sleep (sqlite3_vfs *v, int us)
{ return ORIG_VFS (v)->xSleep (ORIG_VFS (v), us); }
static int vfs_current_time (sqlite3_vfs *v, double *out)
{ return ORIG_VFS (v)->xCurrentTime (ORIG_VFS (v), out); }
static int vfs_get_last_error (sqlite3_vfs *v, int n, char *out)
{ return ORIG_VFS (v)->xGetLastError (ORIG_VFS (v), n, out); }
static int vfs_current_time_int64 (sqlite3_vfs *v, sqlite3_int64 *out)
{ return ORIG_VFS (v)->xCurrentTimeInt64 (ORIG_VFS (v), out); }

static sqlite3_vfs enc_vfs = {
  2, 0, 1024, NULL, HEARTH_VFS_NAME, NULL,
  enc_open, vfs_delete, vfs_access, vfs_full_pathname,
  vfs_dl_open, vfs_dl_error, vfs_dl_sym, vfs_dl_close,
  vfs_randomness, vfs_sleep, vfs_current_time, vfs_get_last_error,
  vfs_current_time_int64,
};

/* SQLite's log may quote a failing statement between brackets; Hearth binds
 * every value, but the statement text is still dropped to be sure that no
 * personal data reaches a log. */
static void
sqlite_log_cb (void *data, int code, const char *msg)
{
  g_autoptr(GString) clean = g_string_new (msg);
  const char *open = strchr (clean->str, '[');
  const char *close = open ? strrchr (clean->str, ']') : NULL;
  int primary = code & 0xff;

  if (open != NULL && close != NULL && close > open)
    g_string_erase (clean, open - clean->str, close - open + 1);
  /* ... and the other form, ` in "SQL"` at the end of a message. */
  {
    const char *in = strstr (clean->str, " in \"");
    if (in != NULL)
      g_string_truncate (clean, in - clean->str);
  }
  if (g_str_has_prefix (msg, "encvfs:"))
    g_log ("hearth-sqlite", G_LOG_LEVEL_MESSAGE, "(%d) %s", code, clean->str);
  else if (primary == SQLITE_NOTICE || primary == SQLITE_WARNING || primary == SQLITE_SCHEMA)
    g_log ("hearth-sqlite", G_LOG_LEVEL_INFO, "(%d) %s", code, clean->str);
  else
    g_log ("hearth-sqlite", G_LOG_LEVEL_DEBUG, "(%d) %s", code, clean->str);
}

int
hearth_sqlite_initialize (void)
{
  static gsize once = 0;
  static int result = SQLITE_OK;

  if (g_once_init_enter (&once))
    {
      sqlite3_config (SQLITE_CONFIG_LOG, sqlite_log_cb, NULL);
      sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
      result = sqlite3_initialize ();
      g_once_init_leave (&once, 1);
    }
  return result;
}

gboolean
hearth_vfs_register (GError **error)
{
  static gsize once = 0;
  static int result = SQLITE_OK;

  if (g_once_init_enter (&once))
    {
      sqlite3_vfs *orig;

      if (sodium_init () < 0)
        result = SQLITE_ERROR;
      if (result == SQLITE_OK)
        result = hearth_sqlite_initialize ();
      if (result == SQLITE_OK && (orig = sqlite3_vfs_find (NULL)) != NULL)
        {
          enc_vfs.iVersion = MIN (orig->iVersion, 2);
          enc_vfs.szOsFile = (int) sizeof (EncFile) + orig->szOsFile;
          enc_vfs.mxPathname = orig->mxPathname;
          enc_vfs.pAppData = orig;
          result = sqlite3_vfs_register (&enc_vfs, 0);
        }
      g_once_init_leave (&once, 1);
    }
  if (result != SQLITE_OK)
    {
      g_set_error (error, HEARTH_STORE_ERROR, HEARTH_STORE_ERROR_INTERNAL,
                   "Could not initialise SQLite or libsodium (%s)", sqlite3_errstr (result));
      return FALSE;
    }
  return TRUE;
}

gboolean
hearth_vfs_decrypt_database_page (HearthPageKey *key,
                                  guint32        pgno,
                                  const guint8  *disk,
                                  guint8        *plain)
{
  EncFile f = { .kind = KIND_MAIN, .key = key };

  if (pgno == 0)
    return FALSE;
  return decrypt_page (&f, pgno, disk, plain);
}

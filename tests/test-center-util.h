/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-center-util.h: a real hearth-center for the tests: its admin
 * commands, and its server on a free port of 127.0.0.1 (killed with the
 * test program if the test dies). Row counts are read from its database.
 */
#pragma once

#include "test-util.h"

#include "center-store.h"
#include "store-secret.h"

#include <gio/gio.h>
#include <sqlite3.h>

/* A center: a folder, its store, a server when started. */
typedef struct {
  char *dir;
  char *db_path;
  char *db;        /* "sqlite:PATH" */
  char *key_path;  /* the county secret key */
  GSubprocess *server;
  char *base;      /* "http://127.0.0.1:PORT" */
  char *ca_file;   /* the certificate to trust, when it serves HTTPS */
  char *log_path;  /* the server's stderr */
  GStrv serve_args;  /* more options for `serve` (NULL-terminated, owned) */
  /* The WAL index as center_wal_index() opened it (0: not yet), kept
   * open: closing a descriptor of a file drops every lock this process
   * holds on it (POSIX), a connection's of the tests included. */
  int shm_fd;
} Center;

/* Runs hearth-center with @args (English messages); fills @r (what it held
 * is freed). */
void run_centerv (TestRun *r, const char *const *args);
void run_center (TestRun *r, const char *first, ...) G_GNUC_NULL_TERMINATED;

/* A TCP port of 127.0.0.1 free a moment ago. */
guint test_free_port (void);

/* An initialised center for @county in a new test folder @name. */
Center *center_init (const char *name, const char *county);
void center_free (Center *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Center, center_free)

void center_add_user (Center *c, const char *name, const char *role, const char *scope);
/* A one-time enrolment code for @user. */
char *center_enrol_code (Center *c, const char *user);

/* Starts the server and waits until it answers; with @cert and @key on
 * HTTPS. */
void center_start_full (Center *c, const char *cert, const char *key);
void center_start (Center *c);
/* SIGTERM; asserts a clean exit (status 0). */
void center_stop (Center *c);
/* SIGKILL, as a power cut would; waits until it is gone. */
void center_kill (Center *c);
/* Starts the server again, on the address it had before (HTTP only), after
 * center_stop() or center_kill(). */
void center_restart (Center *c);
/* The same, on HTTPS with @cert and @key (or HTTP with %NULL). */
void center_restart_full (Center *c, const char *cert, const char *key);
gboolean center_running (Center *c);

/* hearth-fault-proxy in front of @c (options @extra, nullable), its
 * --offline flag file @offline, its log beside it (@offline.log); @url gets
 * its address. It dies with the test program. */
GSubprocess *test_proxy_start (Center *c, const char *offline, const char *const *extra, char **url);
void test_proxy_stop (GSubprocess *proxy);

/* The status line of an unsigned GET /v1/pull on a connection of its
 * own, read with a timeout of @timeout_s seconds ("" when none came):
 * (transfer full). The center answers it 401 without its store. */
char *test_unsigned_get_status (Center *c, guint timeout_s);
gint64 center_db_int (Center *c, const char *sql);
char *center_db_text (Center *c, const char *sql);
void center_db_exec (Center *c, const char *sql);

typedef struct {
  guint32 frames;  /* mxFrame: the WAL's valid frames */
  guint32 copied;  /* nBackfill: those copied into the database */
} CenterWalIndex;

/* Enrols a device of @user named @name straight into a center's store,
 * in @txn (a write transaction): its id (a fresh UUID) in @id
 * (transfer full), its signing key returned (transfer full). */
HearthSecret *center_txn_add_device (HearthCenterTxn *txn, const char *user, const char *name, char **id);

/* The WAL index of @c's store, as its connections left it. */
CenterWalIndex center_wal_index (Center *c);

/* A connection to @c's store whose read transaction began on frames of
 * the WAL not yet copied: until it is closed (sqlite3_close()), no writer
 * starts the WAL over (a checkpoint may copy those frames; later ones it
 * does not). Call it while the center writes nothing. */
sqlite3 *center_pin_wal (Center *c);
/* Asserts where @c's store keeps two records (the writer's memory of a
 * push undone must not show here): member @member_id's changes name
 * household @household_id and @village, and household @moved_id's
 * village (household_villages) is @village. */
void center_assert_places (Center *c, const char *member_id, const char *household_id, const char *moved_id,
                           const char *village);
/* The center's schema version once every migration is applied (its last,
 * schema/center/0026-digest-siphash.sql). */
#define CENTER_SCHEMA_VERSION 26

/* Takes @c's stopped store back from version 26 to 25: the digests'
 * CHECKs of 64 digits, those of 32 NULL (schema/center/0026-digest-siphash.sql). */
void center_back_to_25 (Center *c);
/* A change's digest in the rows a migration test compares before and
 * after: a digest of 32 digits (SipHash) as none, for center_back_to_25()
 * leaves none of them (those of 64, BLAKE2b's, stay compared). */
#define DIGEST_AS_KEPT "(CASE WHEN length (digest) = 32 THEN '-' ELSE coalesce (digest, '-') END)"
/* Takes @c's stopped store back from version 26 to 24 (center_back_to_25()): every record
 * keyed as before ids of version 7 were keyed by their time
 * (0025-record-time-key.sql). */
void center_back_to_24 (Center *c);
/* Takes @c's stopped store back from version 26 to 23 (center_back_to_24()): the village
 * index of changes holds the changes without a village too
 * (0024-village-index-placed.sql). */
void center_back_to_23 (Center *c);
/* Takes @c's stopped store back from version 26 to 22 (center_back_to_23()): the published
 * records found through the partial index changes_published, no
 * published_cursors (0023-published-cursors.sql). */
void center_back_to_22 (Center *c);
/* Takes @c's stopped store back from version 26 to 21 (center_back_to_22()): changes keyed by
 * its devices' ids again, its cursors given by AUTOINCREMENT (its
 * counter at the last cursor), no device_numbers
 * (0022-device-number.sql). */
void center_back_to_21 (Center *c);
/* Takes @c's stopped store back from version 26 to 18 (center_back_to_21()): changes as
 * 0013-grouped-edits.sql made it (and 0014, 0017 indexed it), every
 * record's fields as text, none packed (0019-packed-fields.sql). */
void center_back_to_18 (Center *c);
/* The changes no receipt covers (0020-change-receipts.sql): a change
 * whose cursor and receipt time lie in no row of change_receipts, which
 * an export by dates would miss. */
#define CHANGES_WITHOUT_RECEIPT \
  "SELECT count (*) FROM changes c WHERE NOT EXISTS (SELECT 1 FROM change_receipts r " \
  "WHERE c.cursor BETWEEN r.first_cursor AND r.last_cursor " \
  "AND c.received_at BETWEEN r.first_received AND r.last_received)"

/* A tablet: a hearth-cli store in a test folder, with its passphrase file. */
typedef struct {
  char *dir;
  char *pass;
} TestTablet;

void test_tablet_clear (TestTablet *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TestTablet, test_tablet_clear)

/* Runs hearth-cli on @t's store (--data-dir and --passphrase-file first). */
void test_tablet_cli (TestRun *r, TestTablet *t, const char *first, ...) G_GNUC_NULL_TERMINATED;
/* As test_tablet_cli(), in @env's language (NULL: the test's). */
void test_tablet_cli_env (TestRun *r, TestTablet *t, const char *const *env, const char *first, ...)
  G_GNUC_NULL_TERMINATED;
/* A new store (--kdf test) in test folder @name, enrolled with @c for @user. */
void test_tablet_enrol (TestTablet *t, const char *name, Center *c, const char *user);
/* A tablet store in a new folder named @name, made with init (test KDF),
 * not enrolled. */
void test_tablet_init (TestTablet *t, const char *name);
/* test_tablet_enrol(), enrolling through @url (a proxy in front of @c; NULL: @c). */
void test_tablet_enrol_at (TestTablet *t, const char *name, Center *c, const char *user, const char *url);
/* hearth-cli sync: its exit status. */
int test_tablet_sync (TestTablet *t);
/* The first column of @sql's first row in @t's store (NULL: no row), and
 * as a number (-1: no row). */
char *test_tablet_text (TestTablet *t, const char *sql);
gint64 test_tablet_int (TestTablet *t, const char *sql);

/* A generated registry (hearth-cli demo generate, @seed) of @n
 * households of @county, in a new folder named after @name.
 * Returns: (transfer full): its path. */
char *test_registry (const char *name, const char *county, guint n, guint seed);

/* A generated registry (hearth-cli demo generate, @seed) of @n + @m
 * households of @county in @dir, split in two files by household: the
 * first @n in @first, the others in @second (transfer full). */
void test_registries (const char *dir, const char *county, guint seed, guint n, guint m, char **first,
                      char **second);

/* A self-signed certificate for 127.0.0.1 (EC P-256) made with openssl in
 * @dir as NAME.pem and NAME.key (@cert, @key: transfer full); returns
 * its key's pin ("sha256//BASE64"), computed as docs/operations.md
 * says. Needs openssl in PATH. */
char *test_make_cert (const char *dir, const char *name, char **cert, char **key);

/* A server on 127.0.0.1 answering every request 200 with a web page, as
 * a Wi-Fi's sign-in page does (TEST_PORTAL_PAGE), on @port (0: a free one;
 * its port in ->port), until test_portal_stop(). */
typedef struct {
  GSocketListener *listener;
  guint port;
  GThread *thread;
  gint stop;
} TestPortal;
#define TEST_PORTAL_PAGE "<!DOCTYPE html>\n<html><head><title>Wi-Fi</title></head><body>Sign in to the village Wi-Fi</body></html>\n"
TestPortal *test_portal_start (guint port);
void test_portal_stop (TestPortal *p);

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-util.h: helpers shared by the test programs. */
#pragma once

#include <glib.h>
#include <sqlite3.h>
#include "store.h"
#include "store-vfs.h"
#include "case-audit.h"

G_BEGIN_DECLS

#define TEST_PASSPHRASE "correct horse battery staple"
#define TEST_PASSPHRASE_2 "village clerk 2026 spring"

/* Initialises GLib testing, the VFS and the log capture. */
void test_init (int *argc, char ***argv);

/* A fresh folder under the build's test scratch space (not /tmp, so that
 * the canary test's scan of /tmp stays meaningful); removed at exit unless
 * HEARTH_KEEP_TEST_DIRS is set. Returns: (transfer full). */
char *test_make_dir (const char *name);

/* Returns: (transfer full): a passphrase secret. */
HearthSecret *test_secret (const char *text);

/* Creates a store with --kdf test in a fresh folder. Returns: (transfer full) the folder. */
char *test_create_store (const char *name, const guint8 *county_public_key);

/* Opens a store with TEST_PASSPHRASE, asserting success. */
HearthStore *test_open_store (const char *dir);

/* Raw encvfs access with a given key, bypassing the keyslot: the
 * connection has reserve 40, temp_store=MEMORY and the given journal mode. */
sqlite3 *test_open_raw (const char *path, HearthPageKey *key, const char *journal_mode,
                        gboolean set_reserve, char **token_out);

/* Executes SQL, asserting success. */
void test_exec (sqlite3 *db, const char *sql);
gint64 test_query_int (sqlite3 *db, const char *sql);

/* The audit entry number @seq of @db's chain (its newest when @seq is 0):
 * the records it names (case-audit.h, hearth_audit_entry_records()), its
 * action in @action. Asserts that it exists. */
GPtrArray *test_audit_entry (sqlite3 *db, gint64 seq, char **action);
/* The record of @table (and @id, when not NULL) among @records, or NULL. */
HearthAuditRecord *test_audit_find (GPtrArray *records, const char *table, const char *id);
/* Whether @record names exactly the fields in @expected, space-separated,
 * in any order. */
gboolean test_audit_fields_are (const HearthAuditRecord *record, const char *expected);

/* Byte surgery on files. */
void test_flip_byte (const char *path, goffset offset);
GBytes *test_read_range (const char *path, goffset offset, gsize len);
void test_write_range (const char *path, goffset offset, const void *data, gsize len);
char *test_file_sha256 (const char *path);

/* Log capture: every message logged since the last reset, one per line. */
void test_log_reset (void);
const char *test_log_get (void);
gboolean test_log_contains (const char *needle);

/* The text of the first element @name in serialised @xml ("" for
 * <name/>), or NULL when there is none. */
char *test_xml_element (const char *xml, const char *name);

/* A bundled form (schema/forms/NAME) loaded with its media folder. */
#include "form-model.h"
HearthForm *test_load_bundled_form (const char *name);

/* The submission `hearth-cli form fill` makes of bundled form @form with
 * tests/data/answers/@answers, at @now, with @instance_id. */
char *test_fill_bundled (const char *form, const char *answers, const char *now, const char *instance_id);

/* What a run of hearth-cli gave: exit status, standard output and error. */
typedef struct {
  int status;
  char *out;
  char *err;
} TestRun;

void test_run_clear (TestRun *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TestRun, test_run_clear)

/**
 * test_run_cli:
 * @env: (nullable): extra environment, as name, value, …, NULL
 *
 * Runs $HEARTH_CLI with the arguments (NULL-terminated), in English, with
 * no data folder or passphrase file from the environment and no
 * controlling terminal (a prompt fails instead of hanging).
 */
void test_run_cli (TestRun *r, const char *const *env, const char *first, ...) G_GNUC_NULL_TERMINATED;
void test_run_cliv (TestRun *r, const char *const *env, const char *const *args);

/* A version 4 UUID drawn from @rand, so that a seed replays the same ids. */
char *test_rand_uuid (GRand *rand);

/* The path of a file of the source tree ($HEARTH_SOURCE_DIR), by its
 * parts, NULL-terminated. */
char *test_source_path (const char *first, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS

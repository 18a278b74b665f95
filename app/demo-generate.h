/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * demo-generate.h: one deterministic made-up county, shared by the demo
 * command (hearth-cli demo generate), the tests and every benchmark.
 *
 * From a seed (GLib's GRand, never the global random), it makes
 * households of 1 to 7 members (about 4 on average): Chinese names
 * (common surnames, given names of one or two characters), valid
 * GB 11643 ID numbers whose birth date fits the member's age and relation
 * to the head and whose order code fits the member's sex, real village
 * codes of one real county (Balin Left Banner, 150422, in a table typed
 * into demo-generate.c), addresses, phones for some, monitoring categories
 * and per-capita incomes. The same seed and options always give the same
 * bytes: ages are reckoned at HEARTH_DEMO_REFERENCE_DATE, not today.
 *
 * hearth_demo_fill_store() fills a store for benchmarks through the same
 * code real data takes: the registry import for households and members,
 * the form session and the case store's recording for visits, the
 * workflow's transitions for reviews (see its comment for the fast path).
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

#define HEARTH_DEMO_ERROR (hearth_demo_error_quark ())
GQuark hearth_demo_error_quark (void);

/**
 * HearthDemoError:
 * @HEARTH_DEMO_ERROR_INVALID: an option is out of bounds (the message
 *   says which)
 * @HEARTH_DEMO_ERROR_FAILED: a step of filling a store failed (the
 *   message names the step and the cause)
 */
typedef enum {
  HEARTH_DEMO_ERROR_INVALID,
  HEARTH_DEMO_ERROR_FAILED,
} HearthDemoError;

/* The county whose real village codes the generator knows. */
#define HEARTH_DEMO_DEFAULT_COUNTY "150422"
/* Ages are reckoned at this date; generated visits end the day before. */
#define HEARTH_DEMO_REFERENCE_DATE "2026-05-10"
/* The most households one generator makes. */
#define HEARTH_DEMO_MAX_HOUSEHOLDS 1000000

typedef struct _HearthDemoGenerator HearthDemoGenerator;

/**
 * hearth_demo_generator_new:
 * @seed: the seed: the same seed gives the same households
 * @county: (nullable): a 6-digit county code; %NULL or
 *   %HEARTH_DEMO_DEFAULT_COUNTY: the real villages of the table. Another
 *   code puts the table's township and village numbers under it (codes
 *   that are then made up) and is the birthplace in every ID number.
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): a generator, or %NULL with
 *   HEARTH_DEMO_ERROR_INVALID for a county code that is not 6 digits.
 *   A generator belongs to one thread at a time.
 */
HearthDemoGenerator *hearth_demo_generator_new (guint32      seed,
                                                const char  *county,
                                                GError     **error);

/**
 * hearth_demo_generator_set_larger:
 * @larger: whether households have 5.0 members on average (the sync
 *   benchmark's village, issue 5: 500 households, 2,500 members) rather
 *   than 4.0; sizes stay 1 to 7
 *
 * Sets the size of the households made from now on. The same seed and
 * setting give the same households.
 */
void hearth_demo_generator_set_larger (HearthDemoGenerator *self,
                                       gboolean             larger);

/**
 * hearth_demo_generator_free:
 * @self: (nullable) (transfer full): a generator
 *
 * Frees the generator.
 */
void hearth_demo_generator_free (HearthDemoGenerator *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthDemoGenerator, hearth_demo_generator_free)

/**
 * hearth_demo_registry_header:
 *
 * Returns: (transfer none): the header row of the registry CSV (Chinese
 *   column names, as a county export has them), ending in CRLF, without
 *   the byte order mark. The columns are those `hearth-cli household
 *   import` reads, and three it ignores: 性别 (sex, 男 or 女) and 出生日期
 *   (birth date, YYYY-MM-DD), both as the ID number says, and 人均纯收入
 *   (per-capita income, yuan a year).
 */
const char *hearth_demo_registry_header (void);

/**
 * hearth_demo_generator_next:
 * @csv: the rows are appended here
 *
 * Makes the next household and appends its rows to @csv, one per member,
 * head first, CRLF line ends.
 *
 * Returns: how many members (rows) it has, 1 to 7.
 */
guint hearth_demo_generator_next (HearthDemoGenerator *self,
                                  GString             *csv);

/**
 * hearth_demo_write_registry:
 * @path: the file to write (replaced atomically)
 * @households: how many, 1 to %HEARTH_DEMO_MAX_HOUSEHOLDS
 * @seed: see hearth_demo_generator_new()
 * @county: (nullable): see hearth_demo_generator_new()
 * @members: (out) (optional): how many member rows were written
 * @error: return location for a #GError
 *
 * Writes a county registry in the format `hearth-cli household import`
 * reads: UTF-8 with a byte order mark, a header row, one row per member.
 *
 * Returns: %FALSE with HEARTH_DEMO_ERROR_INVALID, or a G_IO_ERROR when the
 *   file cannot be written. Thread-safe.
 */
gboolean hearth_demo_write_registry (const char  *path,
                                     guint        households,
                                     guint32      seed,
                                     const char  *county,
                                     guint       *members,
                                     GError     **error);

/**
 * hearth_demo_write_divisions:
 * @path: the file to write (replaced atomically)
 * @county: (nullable): see hearth_demo_generator_new()
 * @n: (out) (optional): how many divisions were named
 * @error: return location for a #GError
 *
 * Writes the names of the townships and villages the generator uses, in
 * the format `hearth-center import-divisions` reads: UTF-8 with a byte
 * order mark, the header `code,name`, one division a row (and the county
 * itself for %HEARTH_DEMO_DEFAULT_COUNTY).
 *
 * Returns: %FALSE with HEARTH_DEMO_ERROR_INVALID (a bad county code) or a
 *   G_FILE_ERROR when the file cannot be written. Thread-safe.
 */
gboolean hearth_demo_write_divisions (const char  *path,
                                      const char  *county,
                                      guint       *n,
                                      GError     **error);

/**
 * hearth_demo_villages:
 *
 * Returns: (transfer none) (array zero-terminated=1): the 12-digit codes of
 *   the real villages the generator uses for %HEARTH_DEMO_DEFAULT_COUNTY.
 *   Thread-safe.
 */
const char *const *hearth_demo_villages (void);

/**
 * HearthDemoFillOptions:
 * @households: how many households (the registry part)
 * @visits: how many household visits to record in all
 * @seed: see hearth_demo_generator_new()
 * @county: (nullable): see hearth_demo_generator_new()
 * @forms_dir: the folder of the bundled forms (household-visit.xml and
 *   media/ with thresholds.xml)
 * @progress: (nullable): called now and then with the step ("import",
 *   "visits"), how much of it is done and its total
 * @user_data: for @progress
 * @worker_only: make only the moves a worker's tablet makes (the reviews its
 *   visits raise and its proposals to eliminate a risk), none of the
 *   clerk's and the county's decisions: a store one worker's tablet can push
 *   whole, since a center refuses another role's decision from a worker
 *   (sync/PROTOCOL.md, section 7.1)
 * @larger_households: households of 5.0 members on average
 *   (hearth_demo_generator_set_larger())
 */
typedef struct {
  guint households;
  guint visits;
  guint32 seed;
  const char *county;
  const char *forms_dir;
  void (*progress) (const char *step, guint done, guint total, gpointer user_data);
  gpointer user_data;
  gboolean worker_only;
  gboolean larger_households;
} HearthDemoFillOptions;

/**
 * HearthDemoFillResult:
 * @households: households imported
 * @members: members imported
 * @visits: visits recorded
 * @answer_sets: distinct visit answers filled through the form session
 * @transitions: workflow moves made (clerk and county reviews, proposed
 *   eliminations)
 * @import_seconds: time spent importing the registry
 * @visit_seconds: time spent filling and recording visits and reviews
 */
typedef struct {
  guint households;
  guint members;
  guint visits;
  guint answer_sets;
  guint transitions;
  double import_seconds;
  double visit_seconds;
} HearthDemoFillResult;

/**
 * hearth_demo_fill_store:
 * @store: an open store with no households yet
 * @options: what to make
 * @result: (out) (optional): what was made and how long it took
 * @error: return location for a #GError
 *
 * Fills @store with the households of hearth_demo_write_registry() (the
 * same seed gives the same registry), imported by the registry import in
 * transactions of a few thousand households, then records @visits visits
 * spread over the two years before %HEARTH_DEMO_REFERENCE_DATE, in date
 * order, with the clerk's and county's reviews of the cases they raise.
 *
 * The fast path: filling the visit form through the form session costs
 * milliseconds per visit, so a few dozen answer sets are filled through
 * the real session (the bundled household-visit form, with a household of
 * the store as its case instance), and each visit records one of them
 * through hearth_case_record_submission() with its own instance id,
 * household, dates and next visit date (the answer set's follow-up
 * interval from its visit day) in transactions of a few hundred visits.
 * Submissions, follow-up tasks, risk levels, reviews, field versions and
 * audit entries are then those real visits make; what is not real is that
 * the answers (and so the risk level) do not depend on the household's
 * previous visit. Record ids and times are random or follow the clock, so
 * two stores filled alike differ in them.
 *
 * Returns: %FALSE with HEARTH_DEMO_ERROR_INVALID (bad options, a store
 *   that has households) or _FAILED (naming the step and the cause);
 *   whatever was committed before stays. Not thread-safe for one @store.
 */
gboolean hearth_demo_fill_store (HearthStore                 *store,
                                 const HearthDemoFillOptions *options,
                                 HearthDemoFillResult        *result,
                                 GError                     **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-util.h: what the fuzz target bodies share (defined in
 * fuzz-targets.c): the invariant check that aborts, and the scratch file
 * an input is written to when the code under test reads a path.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Unlike g_assert(), never compiled out (G_DISABLE_ASSERT) and never routed
 * through g_log(), whose handlers a test program may have replaced. */
#define fuzz_check(expr) \
  G_STMT_START { \
    if (G_LIKELY (expr)) ; \
    else \
      hearth_fuzz_fail (__FILE__, __LINE__, #expr); \
  } G_STMT_END

/**
 * hearth_fuzz_fail:
 *
 * Prints the broken invariant @expr to stderr and aborts, which libFuzzer
 * reports as a crash and the regression tests as a failure.
 */
G_GNUC_NORETURN void hearth_fuzz_fail (const char *file,
                                       int         line,
                                       const char *expr);

/**
 * hearth_fuzz_scratch_file:
 * @path_out: (out) (transfer none): a path that opens the file
 *
 * The file an input is written to (county key files, forms, registries):
 * one per process, a memfd when /proc shows it, else a temporary file
 * removed at exit; created on the first call.
 *
 * Returns: its descriptor.
 */
int hearth_fuzz_scratch_file (const char **path_out);

/**
 * hearth_fuzz_make_dir:
 * @name: what the folder is for ("apply")
 *
 * A new folder for this process: under $HEARTH_TEST_TMPDIR when set (the
 * tests' scratch space, so that the canary test's scan of /tmp stays
 * meaningful), else under the temporary folder. Aborts on failure.
 *
 * Returns: (transfer full): its path.
 */
char *hearth_fuzz_make_dir (const char *name);

/**
 * hearth_fuzz_write_file:
 * @fd: a descriptor open for writing
 *
 * Replaces the whole content of @fd with @data. Aborts on failure.
 */
void hearth_fuzz_write_file (int           fd,
                             const guint8 *data,
                             gsize         size);

/**
 * hearth_fuzz_check_message:
 * @error: (nullable): an error
 *
 * Aborts unless @error is set with a non-empty UTF-8 message.
 */
void hearth_fuzz_check_message (const GError *error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* store-secret.h: passphrases and keys in locked, guarded memory. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Longest passphrase accepted, in bytes (the input bound). */
#define HEARTH_PASSPHRASE_MAX 1024
/* Shortest new passphrase, in characters: a PIN can be brute-forced offline
 * by anyone holding the database and its keyslot. */
#define HEARTH_PASSPHRASE_MIN_CHARS 8

typedef struct _HearthSecret HearthSecret;

/**
 * hearth_secret_new:
 * @len: size in bytes (may be 0)
 *
 * Allocates @len zeroed bytes with sodium_malloc(): locked in memory,
 * between guard pages, excluded from core dumps, wiped when freed.
 *
 * Returns: (transfer full): the secret; aborts when secure memory is
 *   exhausted, like g_malloc(). Not thread-safe for concurrent writes.
 */
HearthSecret *hearth_secret_new        (gsize len);
HearthSecret *hearth_secret_new_random (gsize len);
HearthSecret *hearth_secret_new_from_data (const void *data, gsize len);
void          hearth_secret_free       (HearthSecret *secret);
guint8       *hearth_secret_get_data   (HearthSecret *secret);
gsize         hearth_secret_get_size   (const HearthSecret *secret);
const guint8 *hearth_secret_peek       (const HearthSecret *secret);
/* Makes the bytes read-only (sodium_mprotect_readonly); writes then fault. */
void          hearth_secret_seal       (HearthSecret *secret);

/**
 * hearth_secret_read_passphrase_file:
 * @path: a file whose first line is the passphrase
 *
 * Reads the first line (without its line ending) straight into secure
 * memory. At most %HEARTH_PASSPHRASE_MAX bytes; an empty first line, a
 * longer line or invalid UTF-8 is refused.
 *
 * Returns: (transfer full) (nullable): the passphrase, or %NULL with
 *   HEARTH_STORE_ERROR_BAD_FILE naming the file and the problem.
 */
HearthSecret *hearth_secret_read_passphrase_file (const char *path,
                                                  GError    **error);

/**
 * hearth_secret_prompt_passphrase:
 * @prompt: text shown on the terminal
 *
 * Reads a passphrase from the controlling terminal with echo off.
 *
 * Returns: (transfer full) (nullable): the passphrase, or %NULL with
 *   HEARTH_STORE_ERROR_NO_PASSPHRASE when there is no terminal, or
 *   HEARTH_STORE_ERROR_BAD_FILE for an empty or over-long answer.
 */
HearthSecret *hearth_secret_prompt_passphrase (const char *prompt,
                                               GError    **error);

/**
 * hearth_secret_check_new_passphrase:
 *
 * Refuses a new passphrase shorter than %HEARTH_PASSPHRASE_MIN_CHARS
 * characters, with HEARTH_STORE_ERROR_WEAK_PASSPHRASE.
 */
gboolean hearth_secret_check_new_passphrase (const HearthSecret *passphrase,
                                             GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthSecret, hearth_secret_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-passphrase-strength.h: a rough estimate of how hard a new
 * passphrase is to guess, shown while it is typed. Anyone holding the
 * tablet can try passphrases offline against the keyslot, slowed only by
 * Argon2id, so the estimate counts what an attacker would: a character
 * repeated or continuing a run (1234, abcd) adds almost nothing, and a few
 * passphrases everybody tries are weak whatever their length.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  HEARTH_STRENGTH_TOO_SHORT,   /* fewer than HEARTH_PASSPHRASE_MIN_CHARS characters: refused */
  HEARTH_STRENGTH_WEAK,
  HEARTH_STRENGTH_FAIR,
  HEARTH_STRENGTH_GOOD,
  HEARTH_STRENGTH_STRONG,
} HearthStrength;

/**
 * hearth_passphrase_strength:
 * @text: the passphrase typed so far (UTF-8)
 * @bits: (out) (optional): the estimated bits of guesswork
 *
 * Returns: the strength class. Thread-safe.
 */
HearthStrength hearth_passphrase_strength (const char *text,
                                           double     *bits);

/* Returns: (transfer none): the class in words, e.g. "Weak: easy to guess". */
const char *hearth_passphrase_strength_describe (HearthStrength strength);

G_END_DECLS

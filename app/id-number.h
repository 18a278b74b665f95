/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * id-number.h: the resident identity number of GB 11643-1999: 6 digits of
 * address code, 8 of birth date (YYYYMMDD), 3 of order (odd for men), and a
 * check character: the first 17 digits weighted 7 9 10 5 8 4 2 1 6 3 7 9 10
 * 5 8 4 2, their sum mod 11 indexing "10X98765432".
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * hearth_id_number_check:
 * @text: a number as written (a lowercase x is accepted)
 * @normalised: (out) (optional) (transfer full): the number with an
 *   uppercase X
 * @birth_date: (out) (optional) (transfer full): YYYY-MM-DD
 * @sex: (out) (optional): '1' for a man, '2' for a woman
 *
 * Checks the length, the digits, the birth date (a real date, not in the
 * future) and the check character; the address code is not required to
 * be current.
 *
 * Returns: %NULL when valid, else (transfer full) a message saying what
 *   is wrong. Thread-safe.
 */
char *hearth_id_number_check (const char *text,
                              char      **normalised,
                              char      **birth_date,
                              char       *sex);

G_END_DECLS

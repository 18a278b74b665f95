/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hex-digit.h: one hexadecimal digit's value, inline: g_ascii_xdigit_value()
 * as a call was a measurable part of reading versions and \u escapes on
 * the pull's hot path (sync/hlc.c, sync/change-scan.c).
 */
#pragma once

/* Returns: the value of @c as a hexadecimal digit (either case), or -1. */
static inline int
hearth_hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

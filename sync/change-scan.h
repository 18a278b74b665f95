/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * change-scan.h: changes read straight from the JSON text Hearth's own
 * writers produce (a device's push body, the center's pull page), without
 * building json-glib's tree: a page or a push of thousands of changes
 * spent more time building, reading and freeing the tree than on the
 * changes themselves.
 *
 * A scan takes only what it is sure of: RFC 8259 text of the usual shape,
 * each string within HEARTH_CHANGE_MAX_VALUE, each change one that
 * hearth_change_valid() accepts. Anything else (a member it does not
 * know, a name twice, a fraction, null, a lone surrogate, …) makes it
 * give up, and the caller reads the same text with json-glib and
 * hearth_change_from_json(), whose errors name what is wrong: a scan that
 * succeeds reads exactly what that reading reads (tests/test-page-scan.c
 * and the push fuzz target compare the two).
 */
#pragma once

#include <glib.h>

#include "change.h"

G_BEGIN_DECLS

/* A place in a text being scanned: from @p to @end (not NUL-terminated). */
typedef struct {
  const char *p;
  const char *end;
  /* White space skipped so far (bytes): a reader compares it before and
   * after a value to know the value came without any. */
  gsize skipped;
  /* Set when the whole text is known to be UTF-8 (the center checks a
   * push body before it reads it): its strings are then not checked
   * again one by one (a string between two quotes of UTF-8 text is
   * UTF-8: no sequence holds an ASCII byte). */
  gboolean utf8;
  /* (nullable): where a change's strings are kept rather than allocated
   * one by one: the changes read are then @borrowed (change.h) and must
   * not outlive it (a push's changes, center-push-parse.c). */
  GStringChunk *strings;
  /* (nullable): what holds @strings, when each change read is to hold it
   * too (a reference, HearthChange's @strings): the changes may then
   * outlive the scan and whatever started it (a pull page's). */
  HearthChangeStrings *owner;
} HearthScan;

/* Skips white space, then takes @c when it comes next. */
gboolean hearth_scan_take (HearthScan *s, char c);

/* Whether only white space is left. */
gboolean hearth_scan_at_end (HearthScan *s);

/* Returns: (transfer full) (nullable): a string, its escapes undone
 * (\u escapes and surrogate pairs included, but \u0000), valid UTF-8 of
 * at most HEARTH_CHANGE_MAX_VALUE bytes; NULL when none comes next or it
 * is not such a string. */
char *hearth_scan_string (HearthScan *s);

/* A member's name, without escapes (no name the protocol has needs one),
 * and its colon: @name points into the text, @len bytes long. */
gboolean hearth_scan_name (HearthScan *s, const char **name, gsize *len);

#define HEARTH_SCAN_NAME_IS(name, len, literal) \
  ((len) == sizeof (literal) - 1 && memcmp ((name), (literal), (len)) == 0)

/* A whole number written plainly (digits only, no leading zero, at most
 * 18 digits) from @min to @max. */
gboolean hearth_scan_whole (HearthScan *s, gint64 min, gint64 max, gint64 *out);

/* The literal @word ("true", "false") and no letter or digit after it;
 * nothing is consumed when it is not there. */
gboolean hearth_scan_word (HearthScan *s, const char *word);

/**
 * hearth_scan_change:
 * @number_name: the change's number member, which must come: "seq" (a
 *   push, PROTOCOL.md section 7) or "cursor" (a pull page, section 8)
 * @max: the largest number taken
 *
 * Reads one change object (PROTOCOL.md section 6.1) with its number,
 * from 1 to @max, into seq or cursor as @number_name says.
 *
 * Returns: (transfer full) (nullable): the change, or NULL when the
 *   object is not one a scan takes (see above).
 */
HearthChange *hearth_scan_change (HearthScan *s,
                                  const char *number_name,
                                  gint64      max);

/**
 * hearth_scan_change_fields:
 * @fields_text: (out) (transfer none) (nullable): for a record whose
 *   "fields" object came exactly as hearth_change_append_fields_json()
 *   writes it (no whitespace, no escape, no byte 0x7f, its names in
 *   strcmp() order, as a device writes it), that object in @s's text;
 *   else %NULL
 * @fields_len: (out): its length
 *
 * As hearth_scan_change(), and where a record's fields are in the text
 * as the center would write them, so that they need not be written
 * again (the digest's text and the stored fields, center-sync.c).
 */
HearthChange *hearth_scan_change_fields (HearthScan  *s,
                                         const char  *number_name,
                                         gint64       max,
                                         const char **fields_text,
                                         gsize       *fields_len);

/**
 * HearthScanAsSent:
 * @fields_text: as hearth_scan_change_fields()
 * @fields_len: its length
 * @n_digest: 3 when the whole change object came exactly as
 *   hearth_change_append_json (change, FALSE, …) writes it (as a device
 *   writes its push, app/sync-run.c), else 0
 * @digest: (array fixed-size=3): then the text
 *   hearth_change_append_json (change, TRUE, …) writes (the push
 *   outcome's digest: without "seq", "household" and "village"), as
 *   three pieces of @s's text to be read one after the other
 * @digest_len: (array fixed-size=3): their lengths
 * @version: an edit's or a write's version, parsed (the codec's check
 *   parses it: the center need not again), when @have_version
 * @have_version: whether @version holds it
 */
typedef struct {
  const char *fields_text;
  gsize fields_len;
  guint n_digest;
  const char *digest[3];
  gsize digest_len[3];
  HearthHlc version;
  gboolean have_version;
} HearthScanAsSent;

/**
 * hearth_scan_push_change:
 * @sent: (out caller-allocates): what of the change's text the center
 *   need not write again
 *
 * As hearth_scan_change_fields() for a push's change ("seq" from 1 to
 * @max), telling also where the whole change is in the text as the
 * center would write it: hashing those pieces gives the change's digest
 * without writing the change (center-sync.c; the push fuzz target checks
 * the two agree).
 *
 * Returns: (transfer full) (nullable): as hearth_scan_change().
 */
HearthChange *hearth_scan_push_change (HearthScan       *s,
                                       gint64            max,
                                       HearthScanAsSent *sent);

G_END_DECLS

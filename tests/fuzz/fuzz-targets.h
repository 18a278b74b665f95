/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-targets.h: the bodies of the fuzz targets, as plain functions.
 *
 * The libFuzzer entry points (fuzz-keyslot.c, fuzz-county-key.c) and the
 * regression test (test-fuzz-regressions.c) both call these, so that a
 * crashing input saved under tests/fuzz/ replays in an ordinary
 * `meson test` run, without clang or libFuzzer.
 *
 * Both functions are deterministic, accept any input, and return normally
 * unless an invariant of the code under test is broken: then they print
 * the broken invariant to stderr and abort(), which libFuzzer reports as a
 * crash and the regression test as a failure.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * hearth_fuzz_keyslot:
 * @data: (array length=size): arbitrary bytes
 * @size: the number of bytes
 *
 * Parses @data as a keyslot with hearth_keyslot_parse(). A refusal must
 * come with HEARTH_STORE_ERROR_KEYSLOT_CORRUPT; a slot that parses must
 * serialise back to exactly @data and parse again to the same fields.
 *
 * Because a random mutation almost never keeps the BLAKE2b checksum right,
 * the first 268 bytes of a long enough input are also tried with a correct
 * checksum appended, so that the checks behind the checksum get fuzzed too.
 */
void hearth_fuzz_keyslot (const guint8 *data,
                          gsize         size);

/**
 * hearth_fuzz_county_key:
 * @data: (array length=size): arbitrary bytes
 * @size: the number of bytes
 *
 * Writes @data to a file that belongs to this process (a memfd, created on
 * the first call and rewritten on every call) and reads it with
 * hearth_county_key_read_public() and hearth_county_key_read_secret(). A
 * refusal must come with HEARTH_STORE_ERROR_BAD_FILE; a key that is
 * accepted must be the canonical encoding of @data (the header line, then
 * the key in padded base64, then an optional final newline), and no file is
 * accepted as both kinds.
 */
void hearth_fuzz_county_key (const guint8 *data,
                             gsize         size);

/**
 * hearth_fuzz_xpath:
 * @data: (array length=size): any bytes, taken as an XPath expression
 *
 * Parses @data with hearth_xpath_parse(). A refusal must be a
 * HEARTH_XPATH_ERROR with a message; an expression that parses must write
 * back to text that parses to the same text again. Aborts on a broken rule.
 */
void hearth_fuzz_xpath (const guint8 *data,
                        gsize         size);

/**
 * hearth_fuzz_form:
 * @data: (array length=size): any bytes, taken as an XForm file
 *
 * Loads @data with hearth_form_load() (no media folder). A refusal must be
 * a HEARTH_FORM_ERROR with a message; a form that loads has a primary
 * instance. Aborts on a broken rule.
 */
void hearth_fuzz_form (const guint8 *data,
                       gsize         size);

/**
 * hearth_fuzz_xpath_eval:
 * @data: (array length=size): any bytes: an XPath expression on the first
 *   line, then optionally an instance document
 * @size: the number of bytes
 *
 * Parses the first line with hearth_xpath_parse() and evaluates it with
 * hearth_xpath_evaluate() over the instance the rest of @data holds, or,
 * when that is empty or not XML, over a fixed one (Chinese text, dates,
 * blanks, repeats, geopoints) with a secondary instance "cities": once from
 * the root without contextualisation, once from inside the second repeat
 * with it, both with a fixed today() and now() and a small budget (200,000
 * steps, or $HEARTH_FUZZ_XPATH_BUDGET). The
 * result must be a value or a HEARTH_XPATH_ERROR (evaluation or too
 * costly) with a message; a string value is UTF-8 and within
 * HEARTH_XPATH_MAX_STRING; every node of a node-set belongs to one of the
 * instances. Aborts on a broken rule. Deterministic but for what random()
 * and uuid() return, and for regex(), whose time counts against the budget.
 */
void hearth_fuzz_xpath_eval (const guint8 *data,
                             gsize         size);

/**
 * hearth_fuzz_push_body:
 * @data: (array length=size): any bytes, taken as a push body after gunzip
 * @size: the number of bytes
 *
 * Parses @data with hearth_center_parse_push() (the raw depth count,
 * json-glib, the batch's shape and the change codec of each change). A
 * refusal must be a HEARTH_CENTER_ERROR of a 400 or 413 kind with a UTF-8
 * message; a batch that parses holds at most 500 changes numbered one
 * after another, each either a change that writes to JSON and reads back
 * equal, or a refusal with a UTF-8 message. Aborts on a broken rule.
 * Defined in fuzz-push-target.c, which links the center's library.
 */
void hearth_fuzz_push_body (const guint8 *data,
                            gsize         size);

G_END_DECLS

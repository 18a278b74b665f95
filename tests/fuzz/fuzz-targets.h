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
 * hearth_fuzz_packed:
 * @data: (array length=size): any bytes, taken as a stored packed text
 * @size: the number of bytes
 *
 * Unpacks @data with hearth_text_unpack() (store-packed.h): a refusal is
 * HEARTH_STORE_ERROR_CORRUPT naming the record; a text that unpacks is
 * UTF-8 without NUL, at most HEARTH_PACKED_TEXT_MAX bytes, and packs and
 * unpacks to itself. @data as a text (when it is one) packs and unpacks
 * to itself too. Aborts on a broken rule.
 */
void hearth_fuzz_packed (const guint8 *data,
                         gsize         size);

/**
 * hearth_fuzz_record_id:
 * @data: (array length=size): any bytes, taken as a record id
 * @size: the number of bytes
 *
 * Reads @data with hearth_record_id_time() (sync/record-id.h). An id it
 * takes is 36 bytes, a UUID's text (g_uuid_string_is_valid()), its time
 * below 2^48, and hearth_record_id_format() of that time and of the id's
 * other bits writes @data again byte for byte; a text it refuses is not
 * one hearth_record_id_format() could have written (not a lowercase UUID
 * of version 7 and variant 0b10). Aborts on a broken rule.
 */
void hearth_fuzz_record_id (const guint8 *data,
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
 * equal, or a refusal with a UTF-8 message; a body the one-pass reader
 * takes (center-push-parse.h) reads as the tree reader reads it. Aborts
 * on a broken rule. Defined in fuzz-push-target.c, which links the center's library.
 */
void hearth_fuzz_push_body (const guint8 *data,
                            gsize         size);

/**
 * hearth_fuzz_reply:
 * @data: (array length=size): any bytes, taken as the body of a reply from
 *   the county center after gunzip
 * @size: the number of bytes
 *
 * Reads @data as the tablet reads a reply (hearth_sync_parse_reply(): the
 * raw nesting count, json-glib, a refusal) with the statuses 200, 409 and
 * 503; a 200 that parses then as an enrolment, a push reply and a pull
 * page (app/sync-reply.h). Each refusal must be a HEARTH_SYNC_ERROR of the
 * right code (UNREACHABLE for a 2xx that does not parse and a 5xx,
 * REFUSED for a 4xx, PROTOCOL for JSON that is not the reply) with a
 * UTF-8 message. What is accepted must be well-formed: an enrolment for
 * the device with a one-line user, a role of the four, a 6-digit county,
 * a scope of division codes in it and a 32-byte county key in base64; a
 * push reply acknowledging, refusing and clamping only within the batch,
 * each clamp a valid version, "refused" and "clamped" arrays when present;
 * a pull page whose cursor goes back only on an empty last page (a center
 * restored from a backup) and moves when "more" (a
 * boolean) says so, every change read (and written back equal) or skipped
 * with a reason. Defined in fuzz-reply-target.c.
 */
void hearth_fuzz_reply (const guint8 *data,
                        gsize         size);

/**
 * hearth_fuzz_apply:
 * @data: (array length=size): any bytes, taken as a pull page
 * @size: the number of bytes
 *
 * Reads @data as hearth_fuzz_reply() does and, when it is a page, applies
 * it to a real device store (made once per process in a temporary folder:
 * --kdf test, a household and its head written locally, a fixed clock)
 * inside a transaction rolled back afterwards, so that every input starts
 * from the same store. The page must apply (a change the store cannot
 * take is set aside, never the page refused: a refused page would be
 * asked for forever), the cursor and "more" be stored, the invariant of
 * app/sync-apply.c hold for every field with edits (its version and base
 * the merge's winner, the column its value, the open conflicts exactly the
 * merge's losers), the store's clock be past every version it holds, and
 * the same page applied again change nothing. Defined in
 * fuzz-apply-target.c.
 */
void hearth_fuzz_apply (const guint8 *data,
                        gsize         size);

/**
 * hearth_fuzz_batch:
 * @data: (array length=size): any bytes: a manifest.json, then up to four
 *   files, each after a line "=== NAME" (the name a plain file name)
 * @size: the number of bytes
 *
 * Writes the manifest and the files into a folder of this process and
 * verifies it with hearth_batch_verify(), then once more with the
 * manifest's checksums (and counts of JSON files) made right for the
 * files given, so that mutations get past the checksum. A refusal must be
 * HEARTH_BATCH_ERROR_INVALID with a UTF-8 message naming the file at
 * fault; a batch that verifies must be a hearth-batch-v1 manifest with the
 * whole numbers cursor_from <= cursor_to that hearth-cli prints, list
 * every file of the folder once with its BLAKE2b-256 and a whole record
 * count (a JSON file's its array's length). The first file's CSV records
 * (made valid UTF-8) are also written as a batch in both formats by
 * hearth_batch_writer_add_row(), which must verify with its counts.
 * Defined in fuzz-batch-target.c.
 */
void hearth_fuzz_batch (const guint8 *data,
                        gsize         size);

/**
 * hearth_fuzz_batch_count:
 * @data: (array length=size): a byte saying the format (odd: JSON, even:
 *   CSV), then a batch file's bytes
 * @size: the number of bytes
 *
 * Counts the file's records with hearth_batch_count_records() in chunks
 * of 1, 3 and 4096 bytes: each must agree with the whole-text readers
 * (hearth_csv_record() after the UTF-8 check, json-glib's array length):
 * the same count, or a refusal (HEARTH_BATCH_ERROR_INVALID naming the
 * file) where they refuse. Defined in fuzz-batch-target.c.
 */
void hearth_fuzz_batch_count (const guint8 *data,
                              gsize         size);

/**
 * hearth_fuzz_csv:
 * @data: (array length=size): any bytes, taken as CSV text (up to a NUL)
 * @size: the number of bytes
 *
 * Reads every record with hearth_csv_record(): each must move on, the
 * fields of UTF-8 text be UTF-8, and the records written back as RFC 4180
 * says read back the same. Defined in fuzz-registry-target.c.
 */
void hearth_fuzz_csv (const guint8 *data,
                      gsize         size);

/**
 * hearth_fuzz_registry:
 * @data: (array length=size): any bytes, taken as a county registry file
 * @size: the number of bytes
 *
 * Reads @data with hearth_case_registry_read(), once without a county or
 * a store, once in county 361102 with a store that holds the numbers
 * ending in 7. A refusal must be HEARTH_CASE_ERROR_INVALID with a UTF-8
 * message and, for bad rows, problems of the form "line N: what", N a
 * line of the file and what naming the field or household. A registry
 * that is accepted came from text without a NUL, and holds households
 * with one head each, distinct registry numbers, 12-digit villages in the
 * county, members with distinct ID numbers that pass GB 11643 (the check
 * character, a real birth date not in the future, sex and birth date from
 * the number), relations of the list, and UTF-8 values without blanks at
 * either end. Defined in fuzz-registry-target.c.
 */
void hearth_fuzz_registry (const guint8 *data,
                           gsize         size);

/**
 * hearth_fuzz_publish:
 * @data: (array length=size): any bytes, taken as a document the county
 *   center publishes
 * @size: the number of bytes
 *
 * Reads @data as thresholds (hearth_center_read_thresholds()) and, from a
 * file, as a form to publish (hearth_center_read_form()). A refusal must
 * be an error of the documented domains with a UTF-8 message, naming the
 * line when the XML is not well-formed. Accepted thresholds are UTF-8
 * text without a NUL of at most one change value, parse again with the
 * root <thresholds> and no DOCTYPE, and have a version of one trimmed line
 * of at most 128 bytes; an accepted form has a form id and version of one
 * line each and is published byte for byte. Defined in
 * fuzz-publish-target.c, which needs the center's library.
 */
void hearth_fuzz_publish (const guint8 *data,
                          gsize         size);

/**
 * hearth_fuzz_versions:
 * @data: (array length=size): any bytes: a field's name on the first line
 *   (within 200 bytes; else the field "a"), then a record's field versions
 * @size: the number of bytes
 *
 * Reads the versions with the SQL functions of app/store-keys.c
 * (hearth_field_key(), hearth_field_version(), hearth_field_base(),
 * hearth_set_field_version()) on an in-memory SQLite database. All must
 * refuse the same texts, each with an error of the statement that names
 * what is wrong and where; version and base must be the key's parts.
 * Accepted text without a NUL must be valid JSON (or nothing but spaces)
 * in which SQLite's json_each() finds the same key; setting the field
 * (to a new key, to its own key, or out) must give valid JSON where the
 * field has that key and every other field the key it had, and setting it
 * again must change nothing. Aborts on a broken rule. Defined in
 * fuzz-versions-target.c.
 */
void hearth_fuzz_versions (const guint8 *data,
                           gsize         size);

/**
 * hearth_fuzz_writes:
 * @data: (array length=size): any bytes: a field's name on the first line
 *   (within 200 bytes, its other characters than letters, digits and '_'
 *   made '_'; else the field "a"), then a write's fields as stored
 * @size: the number of bytes
 *
 * Stores the fields as a row of record_writes (migration 0014) in an
 * in-memory store made by every migration: the row must be refused
 * unless it is a JSON object, and read through the field_edits view
 * without failing when stored. The field put through the view (its
 * trigger), its parents renamed (hearth_sync_rename_parents()), taken out
 * (hearth_sync_remove_edit(), the row with its last member) and put back
 * (hearth_sync_put_edit()) must read back as written each time, every
 * other member as it was and in its place. Aborts on a broken rule.
 * Defined in fuzz-writes-target.c.
 */
void hearth_fuzz_writes (const guint8 *data,
                         gsize         size);

/**
 * hearth_fuzz_state:
 * @data: (array length=size): any bytes, taken as a record_state.state
 *   text (0012-record-state.sql) as the center's writer reads it
 * @size: the number of bytes
 *
 * Reads @data with the writer's own reader of the state's shape
 * (state_parse() in sync/center-store-sqlite.c) and with the fallback it
 * leaves the rest to (SQLite's json_each()): whatever the reader accepts,
 * the fallback must read to the same fields (names in order, values,
 * cursors, heads), and the text the writer writes of them must read the
 * same again both ways; what it refuses the fallback must read without a
 * field lacking its value or cursor, and refuse (with an error) only what
 * is not JSON. Aborts on a broken rule. Defined in fuzz-state-target.c.
 */
void hearth_fuzz_state (const guint8 *data,
                        gsize         size);

G_END_DECLS

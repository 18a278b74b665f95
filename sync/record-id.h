/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * record-id.h: the ids Hearth gives the records it creates (households,
 * members, submissions, follow-up tasks, reviews, measures, audit
 * entries): UUIDs of version 7 (RFC 9562, section 5.7), whose first 48
 * bits are the time they were made in milliseconds since 1970, the other
 * 74 of their 122 free bits random.
 *
 * Why not version 4 (random), as before: a store finds a record by its id
 * through an index, and a random id's entry lands at a random place of
 * it, so that a commit of many new records rewrites most of its pages (the
 * county center's ingest, issue 5: two such indexes, rewritten nearly
 * whole by each group commit once the store is large, halved its rate
 * by 284 MB). Ids made one after another sort one after another, so their
 * entries land side by side at the index's end (the center keys a
 * version 7 id by its time: center-store-sqlite.c). An id says when its
 * record was made, which the record says anyway (its changes' versions,
 * its dates). Ids made before (version 4) stay valid and are kept, and so
 * are the ids a form sets with XPath uuid(), version 4 as the ODK
 * specification says (a household registered on a tablet: its form's
 * entity id).
 *
 * The text is lowercase, as RFC 9562 section 4 asks and every id the
 * devices made before was (g_uuid_string_random()).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The length of an id's text, without its NUL. */
#define HEARTH_RECORD_ID_LEN 36

/**
 * hearth_record_id_new:
 *
 * A new record id: a UUID of version 7 (RFC 9562 section 5.7) made now
 * (g_get_real_time(); a clock before 1970 gives time 0), its 74 random bits from libsodium's
 * randombytes_buf(). Ids made in the same millisecond are not ordered
 * among themselves (the RFC's section 6.2 allows it; the center needs the
 * time alone).
 *
 * Thread-safe (libsodium is initialised on the first call if nobody did).
 *
 * Returns: (transfer full): the id's text, 36 lowercase characters.
 */
char *hearth_record_id_new (void);

/**
 * hearth_record_id_format:
 * @unix_ms: milliseconds since 1970-01-01 UTC, below 2^48 (a larger
 *   one is written as 2^48 - 1)
 * @random: the 74 bits that are not time, version or variant: the 12
 *   bits of rand_a are the low 12 of @random[0..1], the 62 of rand_b the
 *   low 62 of @random[2..9] (big-endian)
 * @out: (out caller-allocates): room for %HEARTH_RECORD_ID_LEN + 1 bytes
 *
 * Writes the version 7 UUID of @unix_ms and @random (RFC 9562 section
 * 5.7: unix_ts_ms, ver 7, rand_a, var 0b10, rand_b) as its lowercase
 * text, NUL-ended. For hearth_record_id_new() and for tests that make ids
 * of a given time. Thread-safe.
 */
void hearth_record_id_format (guint64 unix_ms, const guint8 random[10], char out[HEARTH_RECORD_ID_LEN + 1]);

/**
 * hearth_record_id_time:
 * @id: (nullable): a text, not necessarily NUL-ended
 * @len: its length in bytes
 * @unix_ms: (out) (optional): the id's time, milliseconds since 1970
 *
 * Whether @id is a version 7 UUID in the form hearth_record_id_new()
 * writes: 36 characters, lowercase hexadecimal digits, dashes at 8, 13,
 * 18 and 23, the version digit 7 and the variant 0b10 (8, 9, a or b at
 * 19). Any other text (a version 4 UUID, capitals, another length) is
 * not. Thread-safe.
 *
 * Returns: %TRUE, and the time in @unix_ms (48 bits), if it is
 */
gboolean hearth_record_id_time (const char *id, gsize len, guint64 *unix_ms);

G_END_DECLS

-- A record whose id is a UUID of version 7 (RFC 9562 section 5.7; the
-- ids devices and the center make from now on, sync/record-id.h) is
-- keyed by the time in its id: hearth_record_key (tbl, record_id) is
-- 2^62 + the id's 48 bits of milliseconds * 2^14 + 14 bits of the hash
-- 0017-record-identity-key.sql keyed every record by, which keys any
-- other id as before (center-store-sqlite.c, record_key_bits()).
--
-- Why: the two indexes of the key, record_state_by_id and
-- changes_record_key, took each new record's entry at a random place,
-- so each group commit of an ingest rewrote most of their pages once
-- the store was large (issue 5: at 284 MB, some 16,000 of the 38,000
-- pages a 10,000-visit ingest wrote to the WAL, against 850 on a small
-- store; the ingest's rate halved). Keys in time order put a commit's new
-- entries side by side at the indexes' end: a few pages each.
--
-- The function changed under the keys stored: a record stored before
-- with an id of version 7 (one a device made that way before its center
-- was upgraded) gets its new key here, in record_state and in its
-- immutable record's row of changes, before any statement looks it up.
-- Ids of version 4 keep theirs. The scans read the ids, and hash only
-- those with a 7 in the version's place.
UPDATE record_state SET idkey = hearth_record_key (tbl, record_id)
  WHERE substr (record_id, 15, 1) = '7' AND idkey <> hearth_record_key (tbl, record_id);
UPDATE changes SET vkey = hearth_record_key (tbl, record_id)
  WHERE kind = 'record' AND substr (record_id, 15, 1) = '7' AND vkey <> hearth_record_key (tbl, record_id);


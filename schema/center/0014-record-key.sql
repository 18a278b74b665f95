-- Immutable records leave the index of keys: changes_by_key holds the
-- edits (kinds 'edit' and 'edits') only, a partial index on ikey IS NOT
-- NULL, and a record's row has ikey NULL. Each row stored put an entry
-- at a random place of changes_by_key (keys are hashes of UUIDs), and a
-- record's row one more in changes_record_identity (tbl, record_id),
-- which finds a record by its identity as well (a unique index, kept):
-- a visit's submission and audit entry dirtied two random pages each of
-- the group commit, written to the WAL and copied by the checkpoint.
--
-- Every statement that reads changes_by_key constrains ikey (= or
-- BETWEEN), which implies the index's condition; a record is found by
-- changes_record_identity ("kind = 'record' AND tbl = ? AND record_id
-- = ?"). The store (center-store-sqlite.c) writes a record's row with
-- ikey NULL from now on.
DROP INDEX changes_by_key;
UPDATE changes SET ikey = NULL WHERE kind = 'record';
CREATE INDEX changes_by_key ON changes (ikey, vkey) WHERE ikey IS NOT NULL;

-- Grouped edits (sync/PROTOCOL.md section 6.1, kind "edits"): one row of
-- changes per write of a mutable record, holding every field the write
-- set under its one version, where a visit's dozen edits of a record were
-- a dozen rows (and a dozen entries of each of the five indexes): most of
-- the center's time per visit stored in the bench's ingest.
--
-- A row of kind 'edits' has the write's version in hlc and its wall time
-- in wall; field, value and parents are NULL, and fields holds the
-- fields as compact JSON, a member per field in field order:
--   {"FIELD": ["VALUE", ["PARENT", …]], …}
-- (center-store-sqlite.c writes and reads it). The identity of each of
-- its field edits stays (tbl, record_id, field, hlc), as for a row of
-- kind 'edit': the center looks an edit up under both (the edit's key,
-- and the record's key with the version's). ikey is the record's key,
-- hearth_change_key (tbl, record_id, NULL), vkey the version's key.
--
-- SQLite cannot change a CHECK in place, so changes is rebuilt as in
-- 0008-stored-outcomes.sql (its rows, their keys and digests, its
-- indexes, its AUTOINCREMENT counter and the views over it kept), its
-- CHECKs written without IN lists (0008). The constraints of the two
-- old kinds are those of 0008.

PRAGMA defer_foreign_keys = ON;
-- Dropping changes checks each row against the outcomes that refer to
-- it, and putting it back again: by an index, not a scan of every
-- outcome for every change (0008).
CREATE INDEX push_outcomes_by_cursor ON push_outcomes (cursor);

DROP VIEW all_push_outcomes;
DROP VIEW field_state;

CREATE TABLE changes_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'changes';
CREATE TABLE changes_copy AS SELECT * FROM changes;
DROP TABLE changes;

CREATE TABLE changes (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind = 'edit' OR kind = 'record' OR kind = 'edits'),
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT,
  hlc TEXT,
  parents TEXT,
  household TEXT,
  village TEXT,
  value TEXT,
  fields TEXT,
  wall TEXT,
  received_at INTEGER NOT NULL,
  digest TEXT CHECK (digest IS NULL OR length (digest) = 64),
  ikey INTEGER,
  vkey INTEGER,
  UNIQUE (device_id, seq),
  CHECK (kind <> 'edit' OR (field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL
                            AND value IS NOT NULL AND fields IS NULL)),
  CHECK (kind <> 'record' OR (fields IS NOT NULL AND field IS NULL AND hlc IS NULL AND value IS NULL)),
  CHECK (kind <> 'edits' OR (fields IS NOT NULL AND hlc IS NOT NULL AND field IS NULL AND value IS NULL
                             AND parents IS NULL)),
  CHECK (tbl = 'audit' OR tbl = 'forms' OR tbl = 'thresholds' OR tbl = 'divisions'
         OR (household IS NOT NULL AND village IS NOT NULL)),
  CHECK ((tbl <> 'forms' AND tbl <> 'thresholds' AND tbl <> 'divisions')
         OR (kind = 'record' AND household IS NULL AND village IS NULL AND device_id = 'center'))
) STRICT;
INSERT INTO changes (cursor, device_id, seq, kind, tbl, record_id, field, hlc, parents, household, village, value,
                     fields, wall, received_at, digest, ikey, vkey)
  SELECT cursor, device_id, seq, kind, tbl, record_id, field, hlc, parents, household, village, value, fields, wall,
         received_at, digest, ikey, vkey FROM changes_copy ORDER BY cursor;
DROP TABLE changes_copy;
DELETE FROM sqlite_sequence WHERE name = 'changes';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'changes', max (coalesce ((SELECT seq FROM changes_seq), 0), coalesce ((SELECT max (cursor) FROM changes), 0));
DROP TABLE changes_seq;

CREATE UNIQUE INDEX changes_record_identity ON changes (tbl, record_id) WHERE kind = 'record';
CREATE INDEX changes_by_village ON changes (village, cursor);
CREATE INDEX changes_by_received ON changes (tbl, received_at);
CREATE INDEX changes_by_key ON changes (ikey, vkey);
DROP INDEX push_outcomes_by_cursor;

-- As 0008-stored-outcomes.sql made it.
CREATE VIEW all_push_outcomes AS
  SELECT device_id, seq, cursor, code, message, original_hlc, clamped_hlc, digest FROM push_outcomes
  UNION ALL
  SELECT c.device_id, c.seq, c.cursor, NULL, NULL, NULL, NULL, c.digest FROM changes c
  WHERE c.device_id <> 'center' AND NOT EXISTS (
    SELECT 1 FROM push_outcomes o WHERE o.device_id = c.device_id AND o.seq = c.seq);

-- As 0012-record-state.sql made it: a field's version is its winning
-- row's hlc, whichever its kind.
CREATE VIEW field_state (tbl, record_id, field, value, hlc, heads) AS
  SELECT r.tbl, r.record_id, j.key, j.value ->> 0, c.hlc, coalesce (j.value ->> 2, CAST (j.value ->> 1 AS TEXT))
  FROM record_state r, json_each (r.state) j LEFT JOIN changes c ON c.cursor = j.value ->> 1;

-- A record's fields stored compressed (sync/center-store-sqlite.c,
-- hearth_center_pack_fields()): of the bytes the center wrote a visit in
-- the bench's ingest, two thirds were the rows of changes, most of them a
-- submission's fields (some 2.6 KB of JSON a submission, names repeated
-- in every record of a form). A row of kind 'record' holds its fields
-- either as the JSON text, as before (every row stored before this
-- migration, and a record whose fields do not shrink), or as a BLOB: the
-- JSON text's length in 4 bytes, little-endian, then that text in raw
-- DEFLATE (RFC 1951). The center decodes it where it reads a record
-- (pull pages, export, its own look-ups), and SQL reads it through
-- hearth_fields (fields), a function the store gives each of its
-- connections, which returns the text either way. Rows of kind 'edits'
-- keep their fields as text: the center's statements look into them by
-- JSON path.
--
-- SQLite cannot change a column's type (TEXT, in a STRICT table, refuses
-- a BLOB) in place, so changes is rebuilt as in 0013-grouped-edits.sql
-- (its rows, keys, digests, indexes, AUTOINCREMENT counter and the views
-- over it kept), fields of type ANY: a BLOB only in a row of kind
-- 'record'. The other constraints are those of 0013.

PRAGMA defer_foreign_keys = ON;
-- As in 0013: dropping changes and putting it back checks each row against
-- the outcomes that refer to it, by an index.
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
  fields ANY,
  wall TEXT,
  received_at INTEGER NOT NULL,
  digest TEXT CHECK (digest IS NULL OR length (digest) = 64),
  ikey INTEGER,
  vkey INTEGER,
  UNIQUE (device_id, seq),
  CHECK (fields IS NULL OR typeof (fields) = 'text' OR (typeof (fields) = 'blob' AND kind = 'record')),
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

-- The indexes as 0013, 0014 and 0017 left them.
CREATE INDEX changes_by_village ON changes (village, cursor);
CREATE INDEX changes_by_received ON changes (tbl, received_at);
CREATE INDEX changes_by_key ON changes (ikey, vkey) WHERE ikey IS NOT NULL;
CREATE INDEX changes_record_key ON changes (vkey) WHERE kind = 'record';
DROP INDEX push_outcomes_by_cursor;

-- As 0013-grouped-edits.sql made it.
CREATE VIEW all_push_outcomes AS
  SELECT device_id, seq, cursor, code, message, original_hlc, clamped_hlc, digest FROM push_outcomes
  UNION ALL
  SELECT c.device_id, c.seq, c.cursor, NULL, NULL, NULL, NULL, c.digest FROM changes c
  WHERE c.device_id <> 'center' AND NOT EXISTS (
    SELECT 1 FROM push_outcomes o WHERE o.device_id = c.device_id AND o.seq = c.seq);

-- As 0017-record-identity-key.sql made it.
CREATE VIEW field_state (tbl, record_id, field, value, hlc, heads) AS
  SELECT r.tbl, r.record_id, j.key, j.value ->> 0, c.hlc, coalesce (j.value ->> 2, CAST (j.value ->> 1 AS TEXT))
  FROM record_state r, json_each (r.state) j LEFT JOIN changes c ON c.cursor = j.value ->> 1;

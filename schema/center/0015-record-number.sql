-- A record's merged state under a small number of its own, given at
-- first sight, in a table of rows (record_state as 0012-record-state.sql
-- made it was keyed by (tbl, record_id), WITHOUT ROWID: every record
-- stored put its whole state, a few hundred bytes, at a random place of
-- the table, record ids being UUIDs). A record the center has not seen
-- gets the next number (rkey), so that the states a group commit stores
-- for new records sit side by side at the end of the table; only the
-- entry of the identity index (tbl, record_id), a few dozen bytes, lands
-- at a random place. In the bench's ingest, record_state was the largest
-- part of the pages a group commit wrote to the WAL (3,000 of some 6,000
-- pages for 1,000 visits), and changes_by_key, keyed by hashes of
-- record ids, a tenth.
--
-- The rows keep their columns, state and lookup as 0012 made them; the
-- statements find a record by (tbl, record_id) as before, through the
-- UNIQUE constraint's index. rkey is never reused (AUTOINCREMENT is not
-- needed: a record's state is never deleted). Every record the center
-- holds an edit of has a row from its first edit on (center-store-
-- sqlite.c numbers it before storing the edit; its state, '{}' until the
-- edit is merged, is that of a record without a field).
--
-- The edits' keys (changes.ikey, 0011-change-key.sql) hold the record's
-- number where they held 48 bits of the BLAKE2b of its identity:
-- rkey * 65536 + hearth_field_key (field), the low 16 bits unchanged (16
-- bits of the BLAKE2b of the field, 0 for a write of several fields), so
-- that an edit of a new record is put at the end of changes_by_key, not
-- at a random place; the statements compute the key from the record's
-- row of record_state. Records (kind 'record') keep no key (0014).
DROP VIEW field_state;
CREATE TABLE record_state_by_number (
  rkey INTEGER PRIMARY KEY,
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  state TEXT NOT NULL,
  lookup TEXT,
  UNIQUE (tbl, record_id)
) STRICT;
INSERT INTO record_state_by_number (tbl, record_id, state, lookup)
  SELECT tbl, record_id, state, lookup FROM record_state ORDER BY tbl, record_id;
DROP TABLE record_state;
ALTER TABLE record_state_by_number RENAME TO record_state;
CREATE INDEX record_state_by_lookup ON record_state (tbl, lookup) WHERE lookup IS NOT NULL;

-- A number for every record edited (a record whose every edit lost to
-- a late parent may have none), in the order of its first edit.
INSERT INTO record_state (tbl, record_id, state)
  SELECT tbl, record_id, '{}' FROM changes INDEXED BY changes_by_key WHERE ikey IS NOT NULL
  GROUP BY tbl, record_id ORDER BY min (cursor)
  ON CONFLICT (tbl, record_id) DO NOTHING;
DROP INDEX changes_by_key;
UPDATE changes SET ikey = (SELECT r.rkey FROM record_state r WHERE r.tbl = changes.tbl
                           AND r.record_id = changes.record_id) * 65536 + hearth_field_key (field)
  WHERE ikey IS NOT NULL;
CREATE INDEX changes_by_key ON changes (ikey, vkey) WHERE ikey IS NOT NULL;

-- As 0013-grouped-edits.sql made it.
CREATE VIEW field_state (tbl, record_id, field, value, hlc, heads) AS
  SELECT r.tbl, r.record_id, j.key, j.value ->> 0, c.hlc, coalesce (j.value ->> 2, CAST (j.value ->> 1 AS TEXT))
  FROM record_state r, json_each (r.state) j LEFT JOIN changes c ON c.cursor = j.value ->> 1;

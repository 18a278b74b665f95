-- A record found by its identity (tbl, record_id) through an index of a
-- small integer, hearth_record_key (tbl, record_id), instead of the two
-- texts: record_state's UNIQUE (tbl, record_id) (0015-record-number.sql)
-- and changes_record_identity (0002-center-own.sql, 0014-record-key.sql)
-- were indexes of a table name and a UUID, some fifty bytes an entry,
-- each new record's entry put at a random place. A group commit of a few
-- thousand visits, each with records new to the center, rewrote nearly
-- every page of both (523 and 468 pages of the bench's ingest store,
-- written to the WAL and copied by the checkpoint, every group). Keyed by
-- an integer of 48 bits, an entry is some fifteen bytes: the indexes are
-- a third of the pages, and a group rewrites a third as many.
--
-- hearth_record_key (tbl, record_id) is the top 48 bits of
-- hearth_change_key (tbl, record_id, NULL) (0011-change-key.sql, the
-- first 6 bytes of the BLAKE2b of "tbl\nrecord_id"), a non-negative
-- integer; a function the center's store gives each of its connections
-- (center-store-sqlite.c), which must never change. A key is where to
-- look, never an identity: two records may share one, and every
-- statement compares tbl and record_id of the rows it finds under it.
-- What the unique indexes refused (a record numbered twice, an immutable
-- record stored twice) is looked up before it is stored, in the same
-- write transaction (center-store-sqlite.c).
--
-- record_state is rebuilt (a UNIQUE constraint cannot be dropped in
-- place) with its rows, their numbers (rkey) and every column kept, and
-- a column idkey, the record's key, indexed by record_state_by_id. An
-- immutable record's row of changes holds its key in vkey, which such a
-- row had NULL (0011: vkey is an edit's version key), indexed by the
-- partial index changes_record_key; changes_by_key holds edits only
-- (0014), so it is untouched.
DROP VIEW field_state;
CREATE TABLE record_state_by_key (
  rkey INTEGER PRIMARY KEY,
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  state TEXT NOT NULL,
  lookup TEXT,
  idkey INTEGER NOT NULL
) STRICT;
INSERT INTO record_state_by_key (rkey, tbl, record_id, state, lookup, idkey)
  SELECT rkey, tbl, record_id, state, lookup, hearth_record_key (tbl, record_id) FROM record_state ORDER BY rkey;
DROP TABLE record_state;
ALTER TABLE record_state_by_key RENAME TO record_state;
CREATE INDEX record_state_by_id ON record_state (idkey);
CREATE INDEX record_state_by_lookup ON record_state (tbl, lookup) WHERE lookup IS NOT NULL;

DROP INDEX changes_record_identity;
UPDATE changes SET vkey = hearth_record_key (tbl, record_id) WHERE kind = 'record';
CREATE INDEX changes_record_key ON changes (vkey) WHERE kind = 'record';

-- As 0015-record-number.sql made it.
CREATE VIEW field_state (tbl, record_id, field, value, hlc, heads) AS
  SELECT r.tbl, r.record_id, j.key, j.value ->> 0, c.hlc, coalesce (j.value ->> 2, CAST (j.value ->> 1 AS TEXT))
  FROM record_state r, json_each (r.state) j LEFT JOIN changes c ON c.cursor = j.value ->> 1;

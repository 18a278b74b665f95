-- The names of the county's townships and villages (sync/PROTOCOL.md
-- section 9.2; `hearth-center import-divisions`): a published record of
-- the table 'divisions', which like 'forms' and 'thresholds' belongs to no
-- household and is the center's alone. SQLite cannot change a CHECK in
-- place, so changes is rebuilt as in 0002-center-own.sql with the new
-- table in its two CHECKs, its rows, indexes and AUTOINCREMENT counter
-- kept (a cursor is never issued twice, even after compaction).

PRAGMA defer_foreign_keys = ON;

CREATE TABLE changes_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'changes';
CREATE TABLE changes_copy AS SELECT * FROM changes;
DROP TABLE changes;

CREATE TABLE changes (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('edit', 'record')),
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
  UNIQUE (device_id, seq),
  CHECK (kind = 'record' OR (field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL
                             AND value IS NOT NULL AND fields IS NULL)),
  CHECK (kind = 'edit' OR (fields IS NOT NULL AND field IS NULL AND hlc IS NULL AND value IS NULL)),
  CHECK (tbl IN ('audit', 'forms', 'thresholds', 'divisions') OR (household IS NOT NULL AND village IS NOT NULL)),
  CHECK (tbl NOT IN ('forms', 'thresholds', 'divisions') OR (kind = 'record' AND household IS NULL
                                                               AND village IS NULL AND device_id = 'center'))
) STRICT;
INSERT INTO changes SELECT * FROM changes_copy ORDER BY cursor;
DROP TABLE changes_copy;
DELETE FROM sqlite_sequence WHERE name = 'changes';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'changes', max (coalesce ((SELECT seq FROM changes_seq), 0), coalesce ((SELECT max (cursor) FROM changes), 0));
DROP TABLE changes_seq;

CREATE UNIQUE INDEX changes_edit_identity ON changes (tbl, record_id, field, hlc) WHERE kind = 'edit';
CREATE UNIQUE INDEX changes_record_identity ON changes (tbl, record_id) WHERE kind = 'record';
CREATE INDEX changes_by_village ON changes (village, cursor);
CREATE INDEX changes_by_received ON changes (tbl, received_at);

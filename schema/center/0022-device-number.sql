-- The change log keyed by a device's number rather than its id, and
-- without AUTOINCREMENT: the writer's B-tree work per change, the
-- center's bottleneck in an ingest (issue 5).
--
-- changes named its device by its 36-character id (or 'center'), and
-- its unique key (device_id, seq) held it in every entry: 55-byte
-- entries, one insertion point a pushing device, the index of changes
-- that split most (callgrind of the bench's ingest). A device now has a
-- number, given once and never again (device_numbers; 0 is the
-- center's own changes), and changes holds it in `device`, the key
-- (device, seq) a few bytes an entry. The center looks a device's
-- number up once a transaction (center-store-sqlite.c), and every
-- statement that named changes.device_id names device, through
-- device_numbers where it starts from an id. Nothing on the wire
-- changes: a device's id is still what a push, a pull and an outcome
-- name (sync/PROTOCOL.md).
--
-- AUTOINCREMENT kept the largest cursor ever given in sqlite_sequence,
-- written back at every commit that stored a change (some 2,000
-- instructions a change), so that a cursor is never given twice even
-- when the last rows are deleted. Without it SQLite gives the largest
-- cursor in the table plus one: the same, as long as the log's last row
-- is never deleted. The center deletes no change (a savepoint undone
-- takes back cursors no one was told of, as AUTOINCREMENT's counter was
-- undone with it); changes_last_kept refuses the deletion of the last
-- row (by hand, or by a later program) and changes_last_kept_up moving it
-- to a lower cursor: the log's largest cursor never goes down, so
-- cursors handed to devices never go backwards and are never given
-- again. (Rows before it may go or move up, as tests do by hand.) A store whose counter is above its last cursor
-- (rows at the end deleted by hand before this migration) cannot keep
-- that promise for the numbers in between: it gets a new epoch, its
-- restore point at its last cursor, as a restored backup does
-- (PROTOCOL.md section 12), so every device pulls again from there.
--
-- Its CHECKs, evaluated at every insert (some 4,900 instructions a row
-- in all, measured by callgrind on 5,200 rows of the ingest's kinds),
-- say what 0019's said, cheaper: the type of fields by comparison rather
-- than two calls of typeof () (in a column of type ANY a number sorts
-- before any text and a BLOB after it: text or BLOB is fields >= '', a
-- BLOB fields >= x''), and the terms of an OR in the order that settles
-- most rows first (a household and a village; an 'edits'): some 2,000
-- instructions a row less. The digest's length () stays (no cheaper
-- equivalent).
--
-- changes is rebuilt (its rows, cursors, keys, digests, indexes and the
-- views over it kept), but not as 0019-packed-fields.sql did: there the
-- old log was copied aside and dropped, and SQLite deletes a table that
-- outcomes refer to row by row (foreign keys are on), every index
-- entry with it: half the migration's time. Here the old log is renamed
-- (push_outcomes' reference follows it), the new one filled from it, its
-- unique key and indexes built once the rows are in (sorted, not an
-- entry at a time), and push_outcomes copied to a table of the same
-- schema that refers to the new log; then nothing refers to the old one,
-- and it is dropped whole. The copy is checked before the old rows go:
-- as many rows, each under its cursor the same in every column, its
-- device's number naming the id it had, and every outcome; any
-- difference stops the migration, which is one transaction: nothing is
-- changed. Timed on a store of 2 million changes (1.3 GB) and 20,000
-- outcomes: 31 s of CPU, 54 s on a loaded machine of 2 cores (some
-- 37,000 rows a second; copied aside and dropped as in 0019, 93 s of CPU
-- and 230 s). Its WAL holds the new log and its indexes until the
-- checkpoint, and the file keeps the old log's pages free for new rows
-- (`hearth-center vacuum` gives them back).

PRAGMA defer_foreign_keys = ON;

DROP VIEW all_push_outcomes;
DROP VIEW field_state;

-- A device's number, never given again nor changed: the center's own
-- changes are 0, the devices enrolled numbered in the order they came,
-- then any other device a change names (a row written by hand).
CREATE TABLE device_numbers (
  num INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE
) STRICT;
INSERT INTO device_numbers (num, id) VALUES (0, 'center');
INSERT OR IGNORE INTO device_numbers (id) SELECT id FROM devices ORDER BY enrolled_at, id;
INSERT OR IGNORE INTO device_numbers (id) SELECT DISTINCT device_id FROM changes;
CREATE TRIGGER device_numbers_kept BEFORE DELETE ON device_numbers
BEGIN
  SELECT RAISE (ABORT, 'a device''s number is never taken back: the change log names it');
END;
CREATE TRIGGER device_numbers_fixed BEFORE UPDATE ON device_numbers
BEGIN
  SELECT RAISE (ABORT, 'a device''s number never changes: the change log names it');
END;

-- The checks of the copy (below): a constraint that fails stops the
-- migration with its name.
CREATE TEMP TABLE check_0022 (
  rows_kept INTEGER NOT NULL
    CONSTRAINT "the change log's copy does not hold as many rows as the log" CHECK (rows_kept),
  rows_same INTEGER NOT NULL
    CONSTRAINT "the change log's copy differs from the log (a cursor, a column or a device)" CHECK (rows_same),
  outcomes_kept INTEGER NOT NULL
    CONSTRAINT "the outcomes' copy does not hold every outcome" CHECK (outcomes_kept)
) STRICT;

-- The old log aside, under another name, without its indexes (their
-- names are the new log's).
DROP INDEX changes_by_village;
DROP INDEX changes_by_key;
DROP INDEX changes_record_key;
DROP INDEX changes_published;
ALTER TABLE changes RENAME TO changes_old;

CREATE TABLE changes (
  cursor INTEGER PRIMARY KEY,
  device INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind = 'edits' OR kind = 'record' OR kind = 'edit'),
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
  CHECK (fields IS NULL OR (fields >= '' AND (fields < x'' OR kind = 'record'))),
  CHECK (kind <> 'edit' OR (field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL
                            AND value IS NOT NULL AND fields IS NULL)),
  CHECK (kind <> 'record' OR (fields IS NOT NULL AND field IS NULL AND hlc IS NULL AND value IS NULL)),
  CHECK (kind <> 'edits' OR (fields IS NOT NULL AND hlc IS NOT NULL AND field IS NULL AND value IS NULL
                             AND parents IS NULL)),
  CHECK ((household IS NOT NULL AND village IS NOT NULL)
         OR tbl = 'audit' OR tbl = 'forms' OR tbl = 'thresholds' OR tbl = 'divisions'),
  CHECK ((tbl <> 'forms' AND tbl <> 'thresholds' AND tbl <> 'divisions')
         OR (kind = 'record' AND household IS NULL AND village IS NULL AND device = 0))
) STRICT;
INSERT INTO changes (cursor, device, seq, kind, tbl, record_id, field, hlc, parents, household, village, value,
                     fields, wall, received_at, digest, ikey, vkey)
  SELECT cursor, (SELECT num FROM device_numbers WHERE id = device_id), seq, kind, tbl, record_id, field, hlc,
         parents, household, village, value, fields, wall, received_at, digest, ikey, vkey
  FROM changes_old ORDER BY cursor;

-- The outcomes, their reference on the new log (as 0001 and 0003 made
-- them, and 0001 their index).
DROP INDEX push_outcomes_clamped;
ALTER TABLE push_outcomes RENAME TO push_outcomes_old;
CREATE TABLE push_outcomes (
  device_id TEXT NOT NULL REFERENCES devices (id),
  seq INTEGER NOT NULL,
  cursor INTEGER REFERENCES changes (cursor),
  code TEXT,
  message TEXT,
  original_hlc TEXT,
  clamped_hlc TEXT,
  digest TEXT CHECK (digest IS NULL OR length (digest) = 64),
  PRIMARY KEY (device_id, seq),
  CHECK ((code IS NULL) = (message IS NULL)),
  CHECK ((original_hlc IS NULL) = (clamped_hlc IS NULL))
) STRICT, WITHOUT ROWID;
INSERT INTO push_outcomes (device_id, seq, cursor, code, message, original_hlc, clamped_hlc, digest)
  SELECT device_id, seq, cursor, code, message, original_hlc, clamped_hlc, digest FROM push_outcomes_old
  ORDER BY device_id, seq;
CREATE INDEX push_outcomes_clamped ON push_outcomes (device_id, original_hlc) WHERE original_hlc IS NOT NULL;

-- The same rows under the same cursors, each with its device's number,
-- and the same outcomes.
INSERT INTO check_0022 (rows_kept, rows_same, outcomes_kept)
  SELECT (SELECT count (*) FROM changes) = (SELECT count (*) FROM changes_old),
         NOT EXISTS (SELECT 1 FROM changes n LEFT JOIN changes_old o ON o.cursor = n.cursor
                     LEFT JOIN device_numbers d ON d.num = n.device
                     WHERE d.id IS NOT o.device_id OR n.seq IS NOT o.seq OR n.kind IS NOT o.kind
                       OR n.tbl IS NOT o.tbl OR n.record_id IS NOT o.record_id OR n.field IS NOT o.field
                       OR n.hlc IS NOT o.hlc OR n.parents IS NOT o.parents OR n.household IS NOT o.household
                       OR n.village IS NOT o.village OR n.value IS NOT o.value OR n.fields IS NOT o.fields
                       OR n.wall IS NOT o.wall OR n.received_at IS NOT o.received_at
                       OR n.digest IS NOT o.digest OR n.ikey IS NOT o.ikey OR n.vkey IS NOT o.vkey),
         (SELECT count (*) FROM push_outcomes) = (SELECT count (*) FROM push_outcomes_old);

-- A counter above the last cursor: rows at the end of the log were
-- deleted, and their cursors would be given again. The devices are told
-- as after a restore (a new epoch, its restore point the last cursor).
UPDATE center_epoch
  SET epoch = lower (hex (randomblob (16))), restore_cursor = (SELECT coalesce (max (cursor), 0) FROM changes)
  WHERE only_row = 1
    AND (SELECT seq FROM sqlite_sequence WHERE name = 'changes_old') > (SELECT coalesce (max (cursor), 0) FROM changes);

-- Nothing refers to the old tables now: dropped whole (the outcomes'
-- first, then the log and its AUTOINCREMENT counter).
DROP TABLE push_outcomes_old;
DROP TABLE changes_old;
DROP TABLE temp.check_0022;

CREATE TRIGGER changes_last_kept BEFORE DELETE ON changes
  WHEN old.cursor = (SELECT max (cursor) FROM changes)
BEGIN
  SELECT RAISE (ABORT, 'the last change of the log is never deleted: its cursor would be given again');
END;
CREATE TRIGGER changes_last_kept_up BEFORE UPDATE OF cursor ON changes
  WHEN new.cursor < old.cursor AND old.cursor = (SELECT max (cursor) FROM changes)
BEGIN
  SELECT RAISE (ABORT, 'the last change of the log is never moved back: its cursor would be given again');
END;

-- The unique key and the indexes as 0019 and 0020 left them, the key by
-- device number.
CREATE UNIQUE INDEX changes_by_device ON changes (device, seq);
CREATE INDEX changes_by_village ON changes (village, cursor);
CREATE INDEX changes_by_key ON changes (ikey, vkey) WHERE ikey IS NOT NULL;
CREATE INDEX changes_record_key ON changes (vkey) WHERE kind = 'record';
CREATE INDEX changes_published ON changes (cursor) WHERE tbl = 'forms' OR tbl = 'thresholds' OR tbl = 'divisions';

-- As 0013-grouped-edits.sql made it, the device's id from its number.
CREATE VIEW all_push_outcomes AS
  SELECT device_id, seq, cursor, code, message, original_hlc, clamped_hlc, digest FROM push_outcomes
  UNION ALL
  SELECT d.id, c.seq, c.cursor, NULL, NULL, NULL, NULL, c.digest
  FROM changes c JOIN device_numbers d ON d.num = c.device
  WHERE c.device <> 0 AND NOT EXISTS (
    SELECT 1 FROM push_outcomes o WHERE o.device_id = d.id AND o.seq = c.seq);

-- As 0017-record-identity-key.sql made it.
CREATE VIEW field_state (tbl, record_id, field, value, hlc, heads) AS
  SELECT r.tbl, r.record_id, j.key, j.value ->> 0, c.hlc, coalesce (j.value ->> 2, CAST (j.value ->> 1 AS TEXT))
  FROM record_state r, json_each (r.state) j LEFT JOIN changes c ON c.cursor = j.value ->> 1;

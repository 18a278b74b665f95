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
-- changes is rebuilt as in 0019-packed-fields.sql (its rows, cursors,
-- keys, digests, indexes and the views over it kept), with its unique
-- key and indexes built once the rows are in (sorted, not one entry at a
-- time). The copy is checked before the old rows go: the same count of
-- rows, the same cursors, every row's device and number; any difference
-- stops the migration, which is one transaction: nothing is changed.

PRAGMA defer_foreign_keys = ON;
-- As in 0013: dropping changes and putting it back checks each row
-- against the outcomes that refer to it, by an index.
CREATE INDEX push_outcomes_by_cursor ON push_outcomes (cursor);

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
  cursors_kept INTEGER NOT NULL
    CONSTRAINT "the change log's copy does not hold the same cursors and numbers" CHECK (cursors_kept),
  devices_kept INTEGER NOT NULL
    CONSTRAINT "the change log's copy does not name the same devices" CHECK (devices_kept)
) STRICT;

CREATE TABLE changes_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'changes';
CREATE TABLE changes_copy AS
  SELECT cursor, (SELECT num FROM device_numbers WHERE id = device_id) AS device, device_id, seq, kind, tbl,
         record_id, field, hlc, parents, household, village, value, fields, wall, received_at, digest, ikey, vkey
  FROM changes ORDER BY cursor;
DROP TABLE changes;

CREATE TABLE changes (
  cursor INTEGER PRIMARY KEY,
  device INTEGER NOT NULL,
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
  CHECK (fields IS NULL OR typeof (fields) = 'text' OR (typeof (fields) = 'blob' AND kind = 'record')),
  CHECK (kind <> 'edit' OR (field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL
                            AND value IS NOT NULL AND fields IS NULL)),
  CHECK (kind <> 'record' OR (fields IS NOT NULL AND field IS NULL AND hlc IS NULL AND value IS NULL)),
  CHECK (kind <> 'edits' OR (fields IS NOT NULL AND hlc IS NOT NULL AND field IS NULL AND value IS NULL
                             AND parents IS NULL)),
  CHECK (tbl = 'audit' OR tbl = 'forms' OR tbl = 'thresholds' OR tbl = 'divisions'
         OR (household IS NOT NULL AND village IS NOT NULL)),
  CHECK ((tbl <> 'forms' AND tbl <> 'thresholds' AND tbl <> 'divisions')
         OR (kind = 'record' AND household IS NULL AND village IS NULL AND device = 0))
) STRICT;
INSERT INTO changes (cursor, device, seq, kind, tbl, record_id, field, hlc, parents, household, village, value,
                     fields, wall, received_at, digest, ikey, vkey)
  SELECT cursor, device, seq, kind, tbl, record_id, field, hlc, parents, household, village, value, fields, wall,
         received_at, digest, ikey, vkey FROM changes_copy ORDER BY cursor;

-- The same rows under the same cursors, each with its device's number.
INSERT INTO check_0022 (rows_kept, cursors_kept, devices_kept)
  SELECT (SELECT count (*) FROM changes) = (SELECT count (*) FROM changes_copy),
         (SELECT coalesce (sum (cursor), 0) || ' ' || coalesce (min (cursor), 0) || ' ' || coalesce (max (cursor), 0)
          || ' ' || coalesce (sum (seq), 0) || ' ' || coalesce (sum (device), 0) FROM changes)
         = (SELECT coalesce (sum (cursor), 0) || ' ' || coalesce (min (cursor), 0) || ' ' || coalesce (max (cursor), 0)
            || ' ' || coalesce (sum (seq), 0) || ' ' || coalesce (sum (device), 0) FROM changes_copy),
         NOT EXISTS (SELECT 1 FROM changes_copy o LEFT JOIN device_numbers d ON d.num = o.device
                     WHERE d.id IS NOT o.device_id);

-- A counter above the last cursor: rows at the end of the log were
-- deleted, and their cursors would be given again. The devices are told
-- as after a restore (a new epoch, its restore point the last cursor).
UPDATE center_epoch
  SET epoch = lower (hex (randomblob (16))), restore_cursor = (SELECT coalesce (max (cursor), 0) FROM changes)
  WHERE only_row = 1
    AND (SELECT seq FROM changes_seq) > (SELECT coalesce (max (cursor), 0) FROM changes);
DELETE FROM sqlite_sequence WHERE name = 'changes';
DROP TABLE changes_seq;
DROP TABLE changes_copy;
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
DROP INDEX push_outcomes_by_cursor;

-- As 0013-grouped-edits.sql made it, the device's id from its number.
CREATE VIEW all_push_outcomes AS
  SELECT device_id, seq, cursor, code, message, original_hlc, clamped_hlc, digest FROM push_outcomes
  UNION ALL
  SELECT d.id, c.seq, c.cursor, NULL, NULL, NULL, NULL, c.digest FROM changes c JOIN device_numbers d ON d.num = c.device
  WHERE c.device <> 0 AND NOT EXISTS (
    SELECT 1 FROM push_outcomes o WHERE o.device_id = d.id AND o.seq = c.seq);

-- As 0017-record-identity-key.sql made it.
CREATE VIEW field_state (tbl, record_id, field, value, hlc, heads) AS
  SELECT r.tbl, r.record_id, j.key, j.value ->> 0, c.hlc, coalesce (j.value ->> 2, CAST (j.value ->> 1 AS TEXT))
  FROM record_state r, json_each (r.state) j LEFT JOIN changes c ON c.cursor = j.value ->> 1;
